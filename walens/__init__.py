"""walens: review serverless workloads against the AWS Well-Architected Serverless Lens."""

__version__ = "0.1.0"
