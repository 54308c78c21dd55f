"""``otel-agent report``: runs, models and timelines rebuilt from exported spans.

load (`load.load_spans`: OTLP/JSON file or Jaeger) -> spans (`spans.SpanRow`) -> runs (`model.build_runs`) -> tables
(`tables.build_report`, `tables.report_to_json`) -> text (`text.render_text`) or a chart (`chart.write_timeline_png`).
"""
