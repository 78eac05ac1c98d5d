"""Bulk classification jobs: a file of records classified by one or more models in a worker
process, checkpointed per chunk in SQLite, resumable after a crash with every row classified
exactly once; results as CSV or XLSX; confidence-gated triage; the same step on Ray.

- ``lifecycle``: parameters, the job row, create / get / list / cancel, launching a worker;
- ``worker``: ``run_job``, the chunked, checkpointed classification;
- ``results``: the results rows and files, ``classify_file`` (a file to a file, no workspace);
- ``triage``: machine-accept by per-category thresholds;
- ``ray``: ``classify_on_ray`` (imported on demand: it needs Ray).
"""

from core.jobs.lifecycle import (
                                 Estimate,
                                 JobError,
                                 JobInfo,
                                 JobParams,
                                 cancel_job,
                                 create_job,
                                 estimate_job,
                                 get_job,
                                 launch,
                                 list_jobs,
                                 resume_interrupted,
                                 resume_job,
                                 retry_job,
                                 route_plan,
)
from core.jobs.results import classified_rows, classify_file, distribution, job_taxonomies, result_rows, write_results
from core.jobs.triage import TriageReport, conformal_triage, default_thresholds, triage, undo_triage
from core.jobs.worker import run_job

__all__ = ["Estimate", "JobError", "JobInfo", "JobParams", "TriageReport", "cancel_job", "classified_rows",
           "classify_file", "conformal_triage", "create_job", "default_thresholds", "distribution", "estimate_job",
           "get_job", "job_taxonomies", "launch", "list_jobs", "result_rows", "resume_interrupted", "resume_job",
           "retry_job",
           "route_plan", "run_job", "triage", "undo_triage", "write_results"]
