"""Browser tests: an experiment's runs table (filter, sort, columns, nesting, pages, delete)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from tests.ui.conftest import Demo


def _names(page: Any) -> list[str]:
    return [
        n.strip() for n in page.locator("#runs-table tbody td.name a.run-link").all_inner_texts()
    ]


def test_runs_table_shows_runs_with_metrics_params_and_children(
    page: Any, demo: Demo, screenshot: Any
) -> None:
    page.goto(f"{demo.url}/experiments/{demo.experiment_id}")
    table = page.locator("#runs-table")
    expect(table.locator("th[data-column='metrics.accuracy']")).to_be_visible()
    expect(table.locator("th[data-column='params.lr']")).to_be_visible()
    names = _names(page)
    assert names[:3] == ["run-7", "run-6", "run-5"]  # newest first
    parent = names.index("run-3")
    assert sorted(names[parent + 1 : parent + 3]) == ["child-0", "child-1"]  # under the parent
    expect(page.locator(f"tr[data-parent='{demo.runs['run-3']}']")).to_have_count(2)
    screenshot(page, "experiment-runs-table")
    page.get_by_role("button", name=re.compile("Hide the 2 child runs")).click()
    expect(page.locator(f"tr[data-parent='{demo.runs['run-3']}']").first).to_be_hidden()


def test_sort_by_a_metric_both_ways(page: Any, demo: Demo) -> None:
    page.goto(f"{demo.url}/experiments/{demo.experiment_id}")
    page.locator("th[data-column='metrics.loss'] a").click()
    expect(page).to_have_url(re.compile(r"sort=metrics.loss&dir=desc|dir=desc.*sort=metrics.loss"))
    assert _names(page)[0] == "run-0"  # loss 1.0 is the largest
    page.locator("th[data-column='metrics.loss'] a").click()
    expect(page.locator("th[data-column='metrics.loss']")).to_have_attribute(
        "aria-sort", "ascending"
    )
    assert _names(page)[0] == "run-7"
    page.go_back()
    expect(page.locator("th[data-column='metrics.loss']")).to_have_attribute(
        "aria-sort", "descending"
    )


def test_filter_narrows_the_table_and_a_bad_filter_is_explained_in_place(
    page: Any, demo: Demo
) -> None:
    page.goto(f"{demo.url}/experiments/{demo.experiment_id}")
    page.get_by_label("Filter runs").fill("metrics.accuracy > 0.7 and tags.team = 'vision'")
    page.get_by_label("Filter runs").press("Enter")
    expect(page.locator("#runs-table tbody tr")).to_have_count(2)
    assert sorted(_names(page)) == ["run-5", "run-7"]
    shared = page.url
    page.get_by_label("Filter runs").fill("metrics.accuracy >> 1")
    page.get_by_label("Filter runs").press("Enter")
    expect(page.locator("#filter-error")).to_contain_text("accuracy")
    expect(page.get_by_label("Filter runs")).to_have_value("metrics.accuracy >> 1")
    page.goto(shared)  # the URL alone brings the same view back
    expect(page.locator("#runs-table tbody tr")).to_have_count(2)


def test_columns_are_chosen_by_the_user_and_kept_in_the_url(page: Any, demo: Demo) -> None:
    page.goto(f"{demo.url}/experiments/{demo.experiment_id}")
    page.locator("#columns-menu summary").click()
    page.locator("#columns-menu input[value='metrics.loss']").uncheck()
    page.locator("#columns-menu input[value='tags.team']").check()
    page.locator("#columns-menu").get_by_role("button", name="Apply").click()
    expect(page.locator("th[data-column='tags.team']")).to_be_visible()
    expect(page.locator("th[data-column='metrics.loss']")).to_have_count(0)
    row = page.locator(f"tr[data-run-id='{demo.runs['run-1']}']")
    expect(row).to_contain_text("vision")
    page.reload()
    expect(page.locator("th[data-column='tags.team']")).to_be_visible()


def test_keyset_pages_and_bulk_delete_and_restore(page: Any, demo: Demo) -> None:
    from heron.client import HeronClient

    with HeronClient(demo.url) as client:
        experiment_id = client.create_experiment("paging")
        for i in range(30):
            client.create_run(experiment_id, run_name=f"p-{i:02d}", start_time=1_000_000 + i)
    page.goto(f"{demo.url}/experiments/{experiment_id}?size=25")
    expect(page.locator("#runs-table tbody tr")).to_have_count(25)
    first_page = _names(page)
    page.locator("#next-page").click()
    expect(page.locator("#runs-table tbody tr")).to_have_count(5)
    assert not set(_names(page)) & set(first_page)
    page.locator("#previous-page").click()
    expect(page.locator("#runs-table tbody tr")).to_have_count(25)
    assert _names(page) == first_page
    expect(page.locator("#previous-page")).to_have_count(0)

    page.locator("tr:has-text('p-29') input[name='run_id']").check()
    page.locator("tr:has-text('p-28') input[name='run_id']").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#delete-button").click()
    expect(page.locator("#runs-table")).not_to_contain_text("p-29")
    page.get_by_label("Show").select_option("deleted")
    page.locator("#view-form").get_by_role("button", name="Apply").click()
    assert sorted(_names(page)) == ["p-28", "p-29"]
    page.locator("#select-all").check()
    page.locator("#restore-button").click()
    expect(page.locator(".empty")).to_be_visible()


def test_runs_are_hidden_and_shown_again_from_the_url(page: Any, demo: Demo) -> None:
    page.goto(f"{demo.url}/experiments/{demo.experiment_id}?size=25")
    page.get_by_role("link", name="Hide run run-6").click()
    expect(page).to_have_url(re.compile(f"hide={demo.runs['run-6']}"))
    assert "run-6" not in _names(page)
    page.locator("tr:has-text('run-5') input[name='run_id']").check()
    page.locator("tr:has-text('run-4') input[name='run_id']").check()
    page.locator("#hide-button").click()
    expect(page.locator("#hidden-runs")).to_have_text("3 hidden runs (3 on this page)")
    assert not {"run-4", "run-5", "run-6"} & set(_names(page))
    page.locator("th[data-column='metrics.loss'] a").click()  # sorting keeps them hidden
    expect(page.locator("th[data-column='metrics.loss']")).to_have_attribute(
        "aria-sort", "descending"
    )
    assert not {"run-4", "run-5", "run-6"} & set(_names(page))
    page.get_by_label("Filter runs").fill("params.depth = '0'")  # so does filtering
    page.get_by_label("Filter runs").press("Enter")
    expect(page.locator("#hidden-runs")).to_contain_text("3 hidden runs")
    assert sorted(_names(page)) == ["run-0", "run-3"]  # run-6 has depth 0 too
    page.locator("#show-hidden").click()
    assert sorted(_names(page)) == ["run-0", "run-3", "run-6"]
    expect(page.locator("#hidden-runs")).to_have_count(0)
