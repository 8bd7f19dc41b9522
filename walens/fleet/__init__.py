"""``walens fleet``: every (account, region) of an organization reviewed as partitions, merged into one fleet review.

The same code runs locally (``walens fleet run``: a thread pool over partitions) and on Step Functions
(``deploy/fleet/``: a Distributed Map over partitions, one Lambda invocation each):

- :mod:`walens.fleet.plan`    the partitions: accounts (a list, AWS profiles or Organizations) × regions
- :mod:`walens.fleet.worker`  one partition: assume the read-only role, call the account scan, classify the outcome
- :mod:`walens.fleet.runner`  the local runner: bounded concurrency, a per-account limit, retry with backoff
- :mod:`walens.fleet.report`  the merge: one fleet review (merge.py), coverage and scores, the KAIZEN diff, trends
- :mod:`walens.fleet.store`   where partition reviews and fleet reviews live (a directory or an S3 prefix)
- :mod:`walens.fleet.role`    the member-account role as a CloudFormation StackSet template, from ``iam-policy``
- :mod:`walens.fleet.lambda_` the Step Functions tasks (plan, scan one partition, merge)
"""
