function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){
	if(_nPageCount == null || _nPageCount<=1){
		return;
	}
	var nCurrIndex = _nCurrIndex || 0;
	if(nCurrIndex == 0){
		document.write("<span class=\"disabled\">首页</span> <span class=\"disabled\">上一页</span> ");
	}else{
		var nPreIndex = nCurrIndex - 1;
		var sPreFileExt = nPreIndex == 0 ? "" : ("_" + nPreIndex);
		document.write("<a href=\"" + _sPageName + "." + _sPageExt + "\">首页</a> ");
		document.write("<a href=\"" + _sPageName + sPreFileExt + "." + _sPageExt + "\">上一页</a> ");
	}
	for(var i=0; i<_nPageCount; i++){
		if(i == nCurrIndex){
			document.write("<span class=\"current\">" + (i+1) + "</span> ");
		}else{
			var sFileExt = i == 0 ? "" : ("_" + i);
			document.write("<a href=\"" + _sPageName + sFileExt + "." + _sPageExt + "\">" + (i+1) + "</a> ");
		}
	}
	if(nCurrIndex == (_nPageCount-1)){
		document.write("<span class=\"disabled\">下一页</span> <span class=\"disabled\">尾页</span>");
	}else{
		var nNextIndex = nCurrIndex + 1;
		document.write("<a href=\"" + _sPageName + "_" + nNextIndex + "." + _sPageExt + "\">下一页</a> ");
		document.write("<a href=\"" + _sPageName + "_" + (_nPageCount-1) + "." + _sPageExt + "\">尾页</a>");
	}
}
