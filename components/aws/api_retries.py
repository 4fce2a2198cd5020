"""How the AWS providers retry a throttled or failing API call.

Many clusters deploying at once share an account's API rate limits (EC2, IAM and EKS throttle per
account and region). The AWS SDKs' ``adaptive`` retry mode adds client-side rate limiting to the
``standard`` mode's retries with backoff: a client that is throttled slows its own calls instead of
retrying into the limit again (AWS SDKs and Tools Reference Guide, "Retry behavior"). pulumi-aws
passes ``retryMode`` to the AWS SDK for Go v2 (provider config; also ``AWS_RETRY_MODE``). A provider
config change is no replacement of the resources it manages (pulumi-aws v7 forces provider
replacement on no config key; see offline/transition.py, provider_replaces).

Known costs, accepted for fleets whose stacks run many creates at once: one rate limiter per service
client, so one throttled API slows that region's other calls of the service; it can delay a first
request (the AWS retry guide recommends it for throttling-heavy, latency-tolerant work, which a fleet
deploy is); hashicorp/terraform-provider-aws#34669 reports slower plans with it; and
aws/aws-sdk-go-v2#3550 (open) reports its retry quota never refilling in a long run, after which
retries stop. Watch a long ``up`` for throttling errors that are not retried.
"""

from __future__ import annotations

RETRY_MODE = "adaptive"
