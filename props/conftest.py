"""pytest props/: set-up shared by every property test.

Importing pebbleffi builds what the tests need with ninja (if missing or
stale) and loads build/libpebble.so through CFFI, before any test is
collected.  Hypothesis profiles, chosen by HYPOTHESIS_PROFILE:

    ci    the default: the whole suite well under 5 minutes on 2 cores,
          derandomized, so a run (and the mutation check) is repeatable
    deep  nightly: 10x the examples of ci, each 4x as long (40x the steps),
          random, with the example database on
"""

import os

from hypothesis import HealthCheck, Phase, settings

import pebbleffi  # noqa: F401  (builds and loads the core)

settings.register_profile(
    "ci", max_examples=300, stateful_step_count=60, deadline=None,
    derandomize=True, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much])
settings.register_profile(
    "deep", max_examples=3000, stateful_step_count=240, deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# props/mutants.py only needs to know whether a mutant is caught, not the
# smallest example that catches it: the same examples, without shrinking
if os.environ.get("PEBBLE_PROPS_NOSHRINK"):
    settings.register_profile("noshrink", settings(), phases=[Phase.explicit, Phase.reuse, Phase.generate])
    settings.load_profile("noshrink")
