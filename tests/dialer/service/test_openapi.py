"""The OpenAPI description documents every route: summary, description, security and the
error responses, so a CRM can drive the same actions as the desktop."""

from __future__ import annotations

from pathlib import Path

from web_kit import client

from trunkline.dialer.service.web_admin import admin
from trunkline.dialer.service.web_admin_archive import archive
from trunkline.dialer.service.web_assign import assign
from trunkline.dialer.service.web_desk import desk
from trunkline.dialer.service.web_desk_info import desk_info
from trunkline.dialer.service.web_machine import machine
from trunkline.dialer.service.web_recordings import recordings
from trunkline.dialer.service.web_reports import reports
from trunkline.dialer.service.web_routes import api, auth
from trunkline.dialer.service.web_supervisor import console_api

#: Every HTTP route the API offers (method, path); a new route must be added here.
ROUTES = {
    ("post", "/api/login"), ("post", "/api/logout"), ("get", "/api/me"),
    ("get", "/api/campaigns"), ("get", "/api/campaigns/{name}"),
    ("post", "/api/campaigns/{name}/start"), ("post", "/api/campaigns/{name}/stop"),
    ("post", "/api/campaigns/{name}/pause"), ("post", "/api/campaigns/{name}/resume"),
    ("get", "/api/snapshot"), ("get", "/api/calls"), ("get", "/api/contacts/{contact_id}"),
    ("get", "/api/audit"), ("get", "/api/users"), ("post", "/api/users"),
    ("post", "/api/users/{name}/password"), ("post", "/api/users/{name}/disable"),
    ("post", "/api/users/{name}/enable"),
    ("get", "/api/desk"), ("post", "/api/desk/login"), ("post", "/api/desk/logout"),
    ("post", "/api/desk/ready"), ("post", "/api/desk/pause"),
    ("post", "/api/desk/disposition"), ("post", "/api/desk/callback"),
    ("post", "/api/desk/hangup"), ("post", "/api/desk/hold"), ("post", "/api/desk/unhold"),
    ("post", "/api/desk/preview/dial"), ("post", "/api/desk/preview/skip"),
    ("post", "/api/desk/dial"), ("post", "/api/desk/transfer"), ("post", "/api/desk/dtmf"),
    ("post", "/api/desk/transfer/complete"), ("post", "/api/desk/transfer/cancel"),
    ("post", "/api/desk/conference"), ("post", "/api/desk/consult/end"),
    ("get", "/api/desk/pause-codes"),
    ("get", "/api/desk/campaigns"), ("get", "/api/desk/screen"),
    ("get", "/api/users/{name}/campaigns"), ("put", "/api/users/{name}/campaigns/{campaign}"),
    ("delete", "/api/users/{name}/campaigns/{campaign}"),
    # issue 18: recordings and QA, reports, API tokens and webhooks
    ("get", "/api/recordings"), ("get", "/api/recordings/{recording}"),
    ("get", "/api/recordings/{recording}/audio"), ("get", "/api/recordings/{recording}/waveform"),
    ("post", "/api/recordings/{recording}/qa"), ("get", "/api/qa/summary"),
    ("get", "/api/campaigns/{name}/qa-form"), ("put", "/api/campaigns/{name}/qa-form"),
    ("get", "/api/reports/daily"), ("get", "/api/reports/{kind}"),
    ("get", "/api/tokens"), ("post", "/api/tokens"), ("post", "/api/tokens/{name}/revoke"),
    ("get", "/api/webhooks"), ("post", "/api/webhooks"), ("post", "/api/webhooks/{name}/enable"),
    ("post", "/api/webhooks/{name}/disable"), ("get", "/api/webhooks/deliveries"),
    ("post", "/api/webhooks/deliveries/{delivery}/redeliver"),
    # issue 18 item 5: the admin area
    ("get", "/api/admin/campaigns/{name}"), ("put", "/api/admin/campaigns/{name}"),
    ("post", "/api/admin/campaigns/{name}/lists"), ("get", "/api/admin/dnc"),
    ("post", "/api/admin/dnc"), ("post", "/api/admin/dnc/remove"),
    ("get", "/api/admin/pause-codes"), ("put", "/api/admin/pause-codes"),
    ("get", "/api/admin/campaigns/{name}/lists"), ("get", "/api/admin/lists/{list_id}/errors"),
    ("delete", "/api/admin/campaigns/{name}"), ("post", "/api/admin/campaigns/{name}/restore"),
    ("get", "/api/admin/archived-campaigns"), ("delete", "/api/admin/lists/{list_id}"),
    # issue 18: the supervisor's live floor and control
    ("patch", "/api/campaigns/{name}/settings"), ("post", "/api/agents/{agent}/logout"),
    ("post", "/api/agents/{agent}/pause"), ("get", "/api/supervisor/position"),
    ("post", "/api/supervisor/position"), ("post", "/api/supervisor/position/logout"),
    ("post", "/api/supervisor/monitor"), ("post", "/api/supervisor/monitor/stop"),
    ("post", "/api/supervisor/takeover"), ("get", "/api/floor"),
}


def test_every_route_is_described_with_its_security_and_errors(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        spec = c.get("/openapi.json").json()
        app_routes = set()
        for router in (auth, api, desk, desk_info, assign, machine, recordings, reports, admin,
                       console_api, archive):  # the routers the app includes
            for route in router.routes:
                app_routes |= {(m.lower(), route.path) for m in getattr(route, "methods", ())}
    described = {(method, path) for path, ops in spec["paths"].items() for method in ops}
    assert described == app_routes
    assert described >= ROUTES
    schemes = spec["components"]["securitySchemes"]
    assert schemes["APIKeyCookie"]["in"] == "cookie"
    assert schemes["APIKeyHeader"]["name"] == "X-CSRF-Token"
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            assert op.get("summary"), where
            assert "Security:" in op.get("description", ""), where
            codes = set(op["responses"])
            assert codes & {"400", "401", "403", "422", "429"}, where
            for code in codes - {"200", "201", "202"}:
                schema = op["responses"][code]["content"]["application/json"]["schema"]
                assert schema["$ref"].endswith("/ErrorBody"), (where, code)
            if path != "/api/login":
                assert op.get("security"), where
                assert {"401", "403"} <= codes or (method == "get" and "401" in codes), where
            if method == "post" and path != "/api/login":
                assert "X-CSRF-Token" in op["description"], where
