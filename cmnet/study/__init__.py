"""A study: every (seed, fold) of an experiment, one room per job:

    plan        the folds × seeds of one study, its cache, and the reuse check before training
    executors   where folds run: this machine (in turn, or in processes) or a Ray cluster
    progress    the one live line of a submission
    run         run_study / run_studies: plan, check, execute, write the tables
"""
