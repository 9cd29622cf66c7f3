"""Use cases of the reporting service; the only place a transaction is opened.

Each takes `ReportingDeps` first (docs/kernel.md, "Use cases and their dependencies"):

- `read_models`: the read models kept from identity's, surveys' and responses' events,
  the rebuild request and the organisation list;
- `benchmarks`: computing a survey's figures (and announcing ready reports);
- `reports`: one organisation's report and who may see it, the list of reports;
- `documents`: the report as infographic (SVG, PNG) and report (PDF, HTML) files;
- `opendata`: publishing closed surveys' datasets, and reading what was published.

Message handlers call the event use cases inside the consumer's transaction (with its
connection); the workers and the API call those that open their own.
"""
