"""Owns the names of the tags, params and metrics a sweep's runs carry: one spelling shared by the
code that writes them (runner, objective, tracking) and every reader (resume, select, tests).

Plain strings only, so any module may import it without pulling in MLflow or Spark.
"""

# Tags on every run the sweep makes
ROLE = "sweep.role"  # "parent" or "trial"
ERROR = "sweep.error"  # the one-line error of a FAILED run

# Tags on a trial (child) run
TRIAL = "sweep.trial"  # the trial number
FAMILY_TAG = "sweep.family"  # the family it fitted; also its param `family` (FAMILY)
CONFIG = "sweep.config"  # sweep.scheduler=halving: the configuration's number (one per TPE point)

# Params on a trial run of sweep.scheduler=halving (see sweep.halving)
RUNG = "rung"  # 0 = the smallest training fraction
TRAIN_FRACTION = "train_fraction"  # the share of the training split the model was fitted on

# Tags on the parent run
SEARCH_SPACE = "sweep.search_space"  # compared on resume
DATA_CACHE = "sweep.data_cache"  # what the Parquet cache did: read, stored, off, rebuilt: <why>
END_REASON = "sweep.end_reason"  # max_evals, timeout, early_stop, interrupted, failures
BEST_RUN_ID = "sweep.best_run_id"
BEST_MODEL_URI = "sweep.best_model_uri"
BEST_TRIAL = "sweep.best_trial"
ON_BOUND = "sweep.on_bound"  # the winner's params at an end of their range (sweep.search.bounds)
REGISTERED_MODEL = "sweep.registered_model"  # <name>/<version>
PROMOTION = "sweep.promotion"  # the registry's decision, in words
PARITY = "parity"  # on a registered version: rows where the JVM-free scorer agrees with Spark
UPDATED = "updated."  # + a param a resumed sweep changed (MLflow params cannot change)

# Metrics on a trial run (besides the validation metrics), read back on resume
FIT_SECONDS = "fit_seconds"
EVAL_SECONDS = "eval_seconds"

# Params on the parent run
FAMILY = "family"  # the model family (dtree|forest|auto); resume refuses another; on children too
FEATURES = "features"  # the encoding (data.features=onehot|categorical); resume refuses another
DATA_SHA256 = "data_sha256"
LABEL = "label"  # the column predicted
TASK = "task"  # classification or regression (sweep.tasks)
ROWS_WITHOUT_LABEL = "rows_without_label"  # rows left out because their label is missing
WARM_START_RUN_ID = "warm_start_run_id"  # the sweep whose trials seeded TPE (sweep.warm_start)
WARM_START_TRIALS = "warm_start_trials"  # how many of its trials did (inside this search space)
SCHEDULER = "scheduler"  # none or halving; resume refuses another
FIDELITY_ETA = "fidelity_eta"  # halving only, with FIDELITY_MIN_FRACTION; resume refuses others
FIDELITY_MIN_FRACTION = "fidelity_min_fraction"
BEST = "best_"  # + the winner's Spark parameter or validation metric
TEST = "test_"  # + the winner's metric on the test split
