"""`make bench`: every benchmark, one line each."""

from bench import ingest

ingest.main()
