"""The gateway boot script run against a fake EC2 API that behaves like the real one on a CNI node."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from components.planning.gateway_boot import gateway_script

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")

# IMDS of a gateway node; its primary interface is eni-primary, and the VPC CNI has added eni-cni.
CURL = r"""#!/bin/bash
url="${@: -1}"
case "$url" in
  */api/token) echo token ;;
  */meta-data/instance-id) echo i-gateway ;;
  */meta-data/placement/region) echo us-east-1 ;;
  */meta-data/mac) echo 0a:00:00:00:00:01 ;;
  */network/interfaces/macs/0a:00:00:00:00:01/interface-id) echo eni-primary ;;
  *) exit 22 ;;
esac
"""

# EC2 as a node sees it: --instance-id is ambiguous with two interfaces; the first address of the
# pool is taken; the first attribute change fails (IAM credentials not there yet).
AWS = r"""#!/bin/bash
echo "$*" >> "$STATE/calls"
args=" $* "
case "$args" in
  *" modify-network-interface-attribute "*)
    [[ "$args" == *" --network-interface-id eni-primary "* ]] || exit 1
    if [ ! -f "$STATE/modify-tried" ]; then touch "$STATE/modify-tried"; echo "Unable to locate credentials" >&2; exit 255; fi
    touch "$STATE/source-dest-off" ;;
  *" modify-instance-attribute "*)
    echo "UnauthorizedOperation" >&2; exit 254 ;;
  *" describe-addresses "*)
    echo "eipalloc-taken eipalloc-free" ;;
  *" associate-address "*)
    if [[ "$args" == *" --instance-id "* ]]; then
      echo "InvalidInstanceID: There are multiple interfaces attached to instance 'i-gateway'" >&2; exit 254
    fi
    [[ "$args" == *" --network-interface-id eni-primary "* ]] || exit 254
    [[ "$args" == *" --allocation-id eipalloc-free "* ]] || { echo "Resource.AlreadyAssociated" >&2; exit 254; }
    touch "$STATE/claimed" ;;
  *) exit 2 ;;
esac
"""


def _run(tmp_path: Path, script: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("curl", CURL), ("aws", AWS), ("sleep", "#!/bin/bash\nexit 0\n")):
        path = bin_dir / name
        path.write_text(body)
        path.chmod(0o755)
    # Run the claim in the foreground, so the test sees its end (the node runs it in the background).
    foreground = script.replace(">/var/log/submariner-gateway-address.log 2>&1 &", "").replace("\ndisown\n", "\n")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "STATE": str(tmp_path)}
    return subprocess.run(["bash", "-c", foreground], env=env, text=True, capture_output=True, timeout=timeout, check=False)


def test_claims_a_free_pool_address_for_the_primary_interface(tmp_path: Path) -> None:
    result = _run(tmp_path, gateway_script("prod-us"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "claimed").exists(), (tmp_path / "calls").read_text()
    assert (tmp_path / "source-dest-off").exists(), "the source/dest check change is retried until it succeeds"
    calls = (tmp_path / "calls").read_text()
    assert "--instance-id" not in calls
    assert "Name=tag:submariner-gateway-pool,Values=prod-us" in calls


def test_the_fake_api_refuses_what_the_real_one_refuses(tmp_path: Path) -> None:
    # The same fake, driven by a script that associates by instance id, never gets an address.
    old = gateway_script("prod-us").replace(
        '--network-interface-id "$interface" \\\n          --allocation-id',
        "--instance-id i-gateway \\\n          --allocation-id",
    )
    assert old != gateway_script("prod-us")
    with pytest.raises(subprocess.TimeoutExpired):
        _run(tmp_path, old, timeout=2)
