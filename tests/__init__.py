"""ptune's tests, laid out like the package: tests/<package>/test_<module>.py; tests/scripts/ for scripts/.

A package, so that same-named files in different folders import apart (tests.tasks.qa.test_metrics,
tests.tasks.tagging.test_metrics) and conftest.py can import tests.helpers and tests.samples."""
