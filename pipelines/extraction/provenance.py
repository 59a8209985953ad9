"""Which rule found each field: the names `probe` shows and the template an Extraction
records."""

from __future__ import annotations


def rule_name(rule: str) -> str:
    """ "selectors:.content-title" → "selector:.content-title"; other rules as they are."""
    if rule.startswith("selectors:"):
        return "selector:" + rule.removeprefix("selectors:")
    return rule


def describe_template(rules_used: list[str]) -> str:
    """E.g. "selectors:.content-title,.content-info,.content-con" or "selectors:h1+labels"."""
    selectors: list[str] = []
    others: list[str] = []
    for rule in rules_used:
        for part in rule.split("+"):
            if part.startswith("selectors:"):
                selectors.append(part.removeprefix("selectors:"))
            else:
                others.append(part)
    parts = (["selectors:" + ",".join(dict.fromkeys(selectors))] if selectors else []) + list(
        dict.fromkeys(others)
    )
    return "+".join(parts) or "none"


def field_provenance(
    info_origins: dict[str, str],
    *,
    title_rule: str | None,
    body_rule: str | None,
    attachment_rule: str | None,
    images: bool,
) -> dict[str, str]:
    """Each field found and the rule that gave it, as `Extraction.provenance` names them: the
    info line's fields as its reader noted them, then title, body, attachments and images. A
    rule of None: that field was not found."""
    provenance = dict(info_origins)
    if title_rule is not None:
        provenance["title"] = rule_name("labels:heading" if title_rule == "labels" else title_rule)
    if body_rule is not None:
        provenance["body"] = rule_name(body_rule)
    if attachment_rule is not None:
        names = {"": "body links", "labels": "labels:附件"}
        provenance["attachments"] = rule_name(names.get(attachment_rule, attachment_rule))
    if images:
        provenance["images"] = "body"
    return provenance
