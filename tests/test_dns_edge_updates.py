"""The edge under change: what AWS and the load balancer controller do when its target group is replaced."""

from __future__ import annotations

import dataclasses

from offline.harness import Run, run_stack
from offline.updates import BINDING, binding_webhook_verdict, plan


def test_a_new_listener_port_replaces_the_target_group_and_the_binding_delete_first(fleet: Run) -> None:
    after = run_stack("fleet", mutate=lambda c: c["fleet:clusters"][1].update(edge={"ingress": {"port": 8443}}))
    steps = plan(fleet, after)
    assert steps["prod-us-edge-tg"].action == "replace"
    binding = steps["prod-us-edge-binding"]
    assert binding.action == "replace"
    assert binding.delete_first
    assert binding_webhook_verdict(binding) is None
    # prod-eu's edge is untouched.
    assert steps["prod-eu-edge-binding"].action == "same"


def test_the_model_refuses_what_the_webhook_refuses(fleet: Run) -> None:
    after = run_stack("fleet", mutate=lambda c: c["fleet:clusters"][1].update(edge={"ingress": {"port": 8443}}))
    # The binding as registered before this fix: no replaceOnChanges, no delete-first.
    for registration in after.of_type(BINDING):
        after.registrations[registration.urn] = dataclasses.replace(
            registration, replace_on_changes=[], delete_before_replace=False
        )
    verdict = binding_webhook_verdict(plan(fleet, after)["prod-us-edge-binding"])
    assert verdict is not None
    assert "may not change these fields: spec.targetGroupARN" in verdict
    # And with replaceOnChanges but create-first, the new binding collides with the old one's name.
    for registration in after.of_type(BINDING):
        after.registrations[registration.urn] = dataclasses.replace(registration, replace_on_changes=["spec.targetGroupARN"])
    verdict = binding_webhook_verdict(plan(fleet, after)["prod-us-edge-binding"])
    assert verdict is not None
    assert "already exists" in verdict


def test_nlb_deletion_protection_follows_protect(fleet: Run) -> None:
    nlb = fleet.named("prod-us-edge-nlb")
    assert nlb.inputs["enableDeletionProtection"] is True
    assert nlb.protect
    unprotected = run_stack("fleet", mutate=lambda c: c.update({"fleet:protect": False}))
    nlb = unprotected.named("prod-us-edge-nlb")
    assert nlb.inputs["enableDeletionProtection"] is False
    assert not nlb.protect


def test_the_controller_serves_target_group_bindings_only(fleet: Run) -> None:
    from tests.reference import unknown_keys

    values = fleet.named("prod-us-edge-lbc").inputs["values"]
    # No alb IngressClass (the controller's IAM policy cannot create ALBs), no Service controller.
    assert values["createIngressClassResource"] is False
    assert values["controllerConfig"] == {"featureGates": {"EnableServiceController": False}}
    assert unknown_keys(values, "aws-load-balancer-controller") == []


def test_target_port_is_what_pods_admit_and_the_service_port_what_the_binding_names() -> None:
    run = run_stack("fleet", mutate=lambda c: c["fleet:clusters"][1].update(edge={"ingress": {"port": 443, "targetPort": 8443}}))
    pods = run.named("prod-us-edge-pods-from-nlb").inputs
    assert (pods["fromPort"], pods["toPort"]) == (8443, 8443)
    out = run.named("prod-us-edge-nlb-to-pods").inputs
    assert (out["fromPort"], out["toPort"]) == (8443, 8443)
    assert run.named("prod-us-edge-binding").inputs["spec"]["serviceRef"]["port"] == 443
    listener = run.named("prod-us-edge-nlb-listener").inputs
    assert (listener["fromPort"], listener["toPort"]) == (443, 443)
