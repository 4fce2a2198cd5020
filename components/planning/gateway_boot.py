"""Boot-time script of Submariner gateway nodes, as pure text.

Managed node groups cannot give an instance a fixed public IP or turn off its EC2
source/destination check, and Submariner needs both: peers and the broker's API allow list
know a gateway by its address, and a gateway forwards packets for other pods' IPs. So each
gateway node, as it boots, claims a free Elastic IP from its cluster's pool (tagged, created by
the program) and turns the check off on itself. It retries until a pool address is free, which
covers a rolling node-group update where the new node boots before the old one lets go.
"""

from __future__ import annotations

import base64

from .iam_policies import GATEWAY_POOL_TAG

_BOUNDARY = "==FLEETGATEWAY=="

_SCRIPT = """#!/bin/bash
set -uo pipefail
imds() {{
  local token
  token=$(curl -sf -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")
  curl -sf -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}}
# Until IMDS, IAM and the EC2 API all answer: a node's first seconds can see any of them fail.
retry() {{
  until "$@"; do sleep 10; done
}}
primary_interface() {{
  local mac
  mac=$(imds mac) && imds "network/interfaces/macs/$mac/interface-id"
}}
claim() {{
  local region interface allocation
  region=$(retry imds placement/region)
  # The primary interface, by id: associate-address --instance-id fails once the VPC CNI has
  # attached a second interface, which it does as soon as an ordinary pod lands here.
  interface=$(retry primary_interface)
  retry aws ec2 modify-network-interface-attribute --region "$region" \\
    --network-interface-id "$interface" --no-source-dest-check
  while true; do
    for allocation in $(aws ec2 describe-addresses --region "$region" \\
        --filters "Name=tag:{pool_tag},Values={cluster}" \\
        --query 'Addresses[?AssociationId==null].AllocationId' --output text); do
      if aws ec2 associate-address --region "$region" --network-interface-id "$interface" \\
          --allocation-id "$allocation" --no-allow-reassociation; then
        return 0
      fi
    done
    sleep 15
  done
}}
# In the background: kubelet starts only after user data finishes, and during a rolling update the
# old node frees its address only once this one is Ready.
claim >/var/log/submariner-gateway-address.log 2>&1 &
disown
"""


def gateway_script(cluster: str) -> str:
    """The shell script a gateway node of ``cluster`` runs once at boot."""
    return _SCRIPT.format(pool_tag=GATEWAY_POOL_TAG, cluster=cluster)


def gateway_user_data(cluster: str) -> str:
    """Launch-template user data: MIME multipart, the form EKS merges with its own AL2023 bootstrap."""
    document = (
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="{_BOUNDARY}"\n\n'
        f"--{_BOUNDARY}\n"
        'Content-Type: text/x-shellscript; charset="us-ascii"\n\n'
        f"{gateway_script(cluster)}\n"
        f"--{_BOUNDARY}--\n"
    )
    return base64.b64encode(document.encode()).decode()
