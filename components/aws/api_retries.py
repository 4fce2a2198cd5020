"""How the AWS providers retry a throttled or failing API call.

Many clusters deploying at once share an account's API rate limits (EC2, IAM and EKS throttle per
account and region). The AWS SDKs' ``adaptive`` retry mode adds client-side rate limiting to the
``standard`` mode's retries with backoff: a client that is throttled slows its own calls instead of
retrying into the limit again (AWS SDKs and Tools Reference Guide, "Retry behavior"). pulumi-aws
passes ``retryMode`` to the AWS SDK for Go v2 (provider config; also ``AWS_RETRY_MODE``). A provider
config change is no replacement of the resources it manages (pulumi-aws v7 forces provider
replacement on no config key; see offline/transition.py, provider_replaces).
"""

from __future__ import annotations

RETRY_MODE = "adaptive"
