"""The resampling defaults (sacreBLEU's), in a module light enough for the command line."""

DEFAULT_RESAMPLES = 1000
DEFAULT_TRIALS = 10_000
DEFAULT_SEED = 12345
