"""Which Applications Argo CD's cluster generator makes from what the program registers, simulated from Argo CD's docs.

Independent of components/planning/gitops.py: built from the ApplicationSet and cluster Secret objects the
program registers, following Argo CD's documented behaviour ("Cluster Generator", "Templates"):

- clusters are the Secrets in Argo CD's namespace labelled argocd.argoproj.io/secret-type=cluster;
  a label selector (matchLabels, all must match) filters them by the Secret's labels;
- each yields parameters name, nameNormalized (the name lowercased, every character outside
  [a-z0-9-.] replaced by '-'), server, project (the Secret's project, "" when unset),
  metadata.labels.<key> and metadata.annotations.<key>;
- templates use fasttemplate: {{param}} with surrounding spaces trimmed; a parameter that does
  not exist is left as written.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from offline.harness import Run

SECRET_TYPE = "argocd.argoproj.io/secret-type"
_TAG = re.compile(r"\{\{(.*?)\}\}")


def cluster_parameters(run: Run) -> list[dict[str, str]]:
    clusters = []
    for secret in run.of_type("kubernetes:core/v1:Secret"):
        metadata = secret.inputs["metadata"]
        if metadata.get("namespace") != "argocd" or metadata.get("labels", {}).get(SECRET_TYPE) != "cluster":
            continue
        data = secret.inputs["stringData"]
        params = {
            "name": data["name"],
            "nameNormalized": re.sub(r"[^a-z0-9.-]", "-", data["name"].lower()),
            "server": data["server"],
            "project": data.get("project", ""),
        }
        params |= {f"metadata.labels.{k}": v for k, v in metadata.get("labels", {}).items()}
        params |= {f"metadata.annotations.{k}": v for k, v in metadata.get("annotations", {}).items()}
        clusters.append(params)
    return clusters


def fasttemplate(text: str, params: dict[str, str]) -> str:
    return _TAG.sub(lambda m: params.get(m.group(1).strip(), m.group(0)), text)


def simulate(application_set: dict[str, Any], clusters: list[dict[str, str]]) -> list[dict[str, str]]:
    (generator,) = application_set["spec"]["generators"]
    match_labels = generator["clusters"].get("selector", {}).get("matchLabels", {})
    template = application_set["spec"]["template"]
    apps = []
    for params in clusters:
        if any(params.get(f"metadata.labels.{k}") != v for k, v in match_labels.items()):
            continue
        apps.append(
            {
                "name": fasttemplate(template["metadata"]["name"], params),
                "cluster": params["name"],
                "path": fasttemplate(template["spec"]["source"]["path"], params),
                "namespace": fasttemplate(template["spec"]["destination"]["namespace"], params),
                "server": fasttemplate(template["spec"]["destination"]["server"], params),
            }
        )
    return sorted(apps, key=lambda a: a["name"])


def outputs_of(run: Run, name: str) -> list[dict[str, str]]:
    return list(run.exports["argocd"]["applicationSets"][name]["applications"])


def test_the_argocd_output_is_what_the_cluster_generator_makes(fleet: Run) -> None:
    clusters = cluster_parameters(fleet)
    assert {c["name"] for c in clusters} == {"mgmt", "prod-us", "prod-eu"}
    for registration in fleet.of_type("kubernetes:argoproj.io/v1alpha1:ApplicationSet"):
        simulated = simulate(registration.inputs, clusters)
        assert simulated, f"{registration.name} generates nothing"
        assert [{k: a[k] for k in ("name", "cluster", "path", "namespace")} for a in simulated] == outputs_of(
            fleet, registration.inputs["metadata"]["name"]
        )
        servers = {a["cluster"]: a["server"] for a in simulated}
        assert servers["prod-us"] == fleet.exports["clusters"]["prod-us"]["endpoint"]


def test_a_set_whose_applications_differ_from_the_output_is_caught(fleet: Run) -> None:
    (registration,) = fleet.of_type("kubernetes:argoproj.io/v1alpha1:ApplicationSet")
    changed = copy.deepcopy(registration.inputs)
    # What a selector typo on the object (not in the output) would do: the set silently selects nobody.
    changed["spec"]["generators"][0]["clusters"]["selector"]["matchLabels"] = {"environment": "prod"}
    assert simulate(changed, cluster_parameters(fleet)) != outputs_of(fleet, "myapp")
    # And a path template using a label the clusters lack stays unrendered.
    changed = copy.deepcopy(registration.inputs)
    changed["spec"]["template"]["spec"]["source"]["path"] = "apps/myapp/overlays/{{metadata.labels.tier}}"
    paths = {a["path"] for a in simulate(changed, cluster_parameters(fleet))}
    assert paths == {"apps/myapp/overlays/{{metadata.labels.tier}}"}


def test_parameters_the_generator_provides() -> None:
    params = {"name": "Prod_US", "nameNormalized": "prod-us", "server": "https://x", "metadata.labels.env": "p"}
    assert (
        fasttemplate("{{ name }}/{{nameNormalized}}/{{metadata.labels.env}}/{{missing}}", params)
        == "Prod_US/prod-us/p/{{missing}}"
    )
