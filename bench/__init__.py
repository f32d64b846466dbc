"""The benchmark (`make bench` = `python -m bench.run`): synthetic waves, the pipeline against a hand-written
DuckDB floor and a plain pandas script. Never part of `make test`."""
