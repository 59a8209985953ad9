"""The crawl's garbage-collector tuning: on by default, off by a setting, and what it sets."""

from __future__ import annotations

import gc

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from chalco_crawler import settings as project_settings
from chalco_crawler.gc_tuning import THRESHOLDS, GcTuning


@pytest.fixture
def restored_gc():
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_a_crawl_freezes_its_start_up_heap_and_collects_less_often(restored_gc):
    crawler = get_crawler(settings_dict={"GC_TUNING_ENABLED": True})
    extension = GcTuning.from_crawler(crawler)
    assert gc.get_threshold() == THRESHOLDS
    before = gc.get_freeze_count()
    survivor = [object() for _ in range(100)]
    extension.engine_started()
    assert gc.get_freeze_count() >= before + len(survivor)


def test_the_setting_turns_it_off(restored_gc):
    thresholds = gc.get_threshold()
    with pytest.raises(NotConfigured):
        GcTuning.from_crawler(get_crawler(settings_dict={"GC_TUNING_ENABLED": False}))
    assert gc.get_threshold() == thresholds


def test_the_project_enables_it():
    assert project_settings.GC_TUNING_ENABLED
    assert "chalco_crawler.gc_tuning.GcTuning" in project_settings.EXTENSIONS
