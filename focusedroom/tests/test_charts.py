"""The console's SVG charts: round value ticks, dated day axis, escaped labels."""

from datetime import date, timedelta

import pytest

from focusedroom.charts import nice_ticks, stacked_columns_svg


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (0, [0, 1]),
        (1, [0, 1]),
        (3, [0, 1, 2, 3]),
        (60, [0, 20, 40, 60]),
        (72, [0, 20, 40, 60, 80]),
        (1234, [0, 500, 1000, 1500]),
    ],
)
def test_value_ticks_are_round_numbers_reaching_the_top(top, ticks):
    assert nice_ticks(top) == ticks


def test_a_month_chart_has_value_ticks_grid_lines_and_a_date_every_monday():
    days = [date(2026, 11, 1) + timedelta(days=i) for i in range(30)]
    svg = str(stacked_columns_svg(days=days, series=[("Big Five Test", [2] * 30)], title="New customers"))
    for label in (">0<", ">1<", ">2<"):
        assert f'text-anchor="end" class="fr-axis"{label}' in svg  # the value axis
    assert svg.count('class="fr-grid-line"') == 3
    mondays = [d for d in days if d.weekday() == 0]
    for monday in mondays:
        assert f">{monday:%d %b}</text>" in svg
    assert svg.count('text-anchor="middle" class="fr-axis"') == len(mondays)
    assert 'aria-label="New customers: 60 in all, from 01 Nov to 30 Nov 2026."' in svg


def test_a_week_chart_dates_every_day():
    days = [date(2026, 11, 2) + timedelta(days=i) for i in range(7)]
    svg = str(stacked_columns_svg(days=days, series=[("a", [1] * 7)], title="Week"))
    assert svg.count('text-anchor="middle" class="fr-axis"') == 7


def test_series_names_are_escaped():
    svg = str(stacked_columns_svg(days=[date(2026, 11, 2)], series=[("<b>x</b>", [1])], title="<t>"))
    assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg and "&lt;t&gt;" in svg


def test_trend_svg_draws_each_point_with_its_value_and_marks_and_escapes():
    from focusedroom.charts import trend_svg

    svg = str(
        trend_svg(
            points=[("Report 1", 20, False), ("Report 2", 75, True), ("<b>", 50, False)],
            title="Openness & co",
            bands=(32.5, 67.5),
        )
    )
    assert svg.count("<circle") == 3 and svg.count("is-marked") == 1
    assert svg.count('class="fr-trend-band"') == 2 and "<polyline" in svg
    assert "Openness &amp; co" in svg and "<b>" not in svg and "&lt;b&gt;" in svg
    assert 'aria-label="Openness &amp; co. Report 1: 20; Report 2: 75; &lt;b&gt;: 50."' in svg
    assert "style=" not in svg and "<script" not in svg
    single = str(trend_svg(points=[("Report 1", 40, False)], title="One"))
    assert single.count("<circle") == 1 and "<polyline" not in single
