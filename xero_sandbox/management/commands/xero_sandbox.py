"""`manage.py xero_sandbox <sub>`: seed, token, stats, fault, remove-user, disconnect, intent-to-receive, demo."""

import json
import secrets
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count

from xero_sandbox import faults, webhooks
from xero_sandbox.identity import services
from xero_sandbox.identity.scopes import DEFAULT_SCOPES, scopes_invalid, scopes_parse
from xero_sandbox.models import (
    Connection,
    Organisation,
    OrgRole,
    RequestLog,
    SandboxApp,
    SandboxUser,
    UserOrgRole,
)

DEMO_ORG_NAME = "Demo Plumbing Co (Xero)"
DEMO_EMAIL = "owner@sandbox.example"
DEMO_PASSWORD = "sandbox-pass"
DEMO_WEBHOOK_URL = "http://127.0.0.1:8000/addons/xero/webhooks/"
SCRIPT_EMAIL = "scripts@sandbox.example"


class Command(BaseCommand):
    help = "Run the local Xero sandbox's chores (seed, tokens for scripts, stats, faults, demo data)."

    def add_arguments(self, parser: CommandParser) -> None:
        subs = parser.add_subparsers(dest="sub", required=True, metavar="SUBCOMMAND")

        seed = subs.add_parser("seed", help="create an organisation with realistic data")
        seed.add_argument("--org", required=True, help="organisation name")
        seed.add_argument("--contacts", type=int, default=50)
        seed.add_argument("--invoices", type=int, default=200)
        seed.add_argument("--seed", type=int, default=0)
        seed.add_argument("--from", dest="from_file", default=None, help="JSON file in Xero's response shapes")

        token = subs.add_parser("token", help="print a token set (JSON) for scripts")
        token.add_argument("--org", required=True, help="tenant id")
        token.add_argument("--scopes", default=DEFAULT_SCOPES)
        token.add_argument("--app", default="", help="client id (default: the demo app, else the only app)")
        token.add_argument("--user", default="", help="sandbox user email (default: a scripting user)")

        stats = subs.add_parser("stats", help="request counts for an organisation (JSON)")
        stats.add_argument("--org", required=True, help="tenant id")

        fault = subs.add_parser("fault", help="inject or clear faults")
        fault.add_argument("--org", default="", help="tenant id")
        fault.add_argument("--kind", choices=["fail", "delay", "drop", "rate_limit"], default="")
        fault.add_argument("--count", type=int, default=None, help="how many calls (default: until cleared)")
        fault.add_argument("--status", type=int, default=503, choices=[500, 503])
        fault.add_argument("--delay-ms", type=int, default=0)
        fault.add_argument("--clear", action="store_true", help="remove faults (of --org, or all)")

        remove = subs.add_parser("remove-user", help="remove a user from an organisation")
        remove.add_argument("--org", required=True, help="tenant id")
        remove.add_argument("--email", required=True)

        disconnect = subs.add_parser("disconnect", help="disconnect apps from an organisation, as from inside Xero")
        disconnect.add_argument("--org", required=True, help="tenant id")
        disconnect.add_argument("--app", default="", help="client id (default: every app)")

        intent = subs.add_parser("intent-to-receive", help="run the webhook intent-to-receive check")
        intent.add_argument("--app", default="", help="client id (default: the demo app)")

        subs.add_parser("demo", help="create the demo app, user and organisation (idempotent)")

    def handle(self, *args, **options) -> None:
        handler = getattr(self, "_" + options["sub"].replace("-", "_"))
        handler(options)

    # ---- helpers ------------------------------------------------------------------------------

    def _json(self, value) -> None:
        self.stdout.write(json.dumps(value, indent=2, default=str))

    def _org(self, tenant_id: str) -> Organisation:
        try:
            return Organisation.objects.get(tenant_id=uuid.UUID(tenant_id))
        except (ValueError, Organisation.DoesNotExist) as exc:
            raise CommandError(f"No sandbox organisation with tenant id {tenant_id!r}.") from exc

    def _app(self, client_id: str) -> SandboxApp:
        if client_id:
            app = SandboxApp.objects.filter(client_id=client_id).first()
            if app is None:
                raise CommandError(f"No sandbox app with client id {client_id!r}.")
            return app
        demo_id = getattr(settings, "XERO_CLIENT_ID", "")
        app = SandboxApp.objects.filter(client_id=demo_id).first() if demo_id else None
        if app is None and SandboxApp.objects.count() == 1:
            app = SandboxApp.objects.get()
        if app is None:
            raise CommandError("Say which app with --app (or create the demo app: `xero_sandbox demo`).")
        return app

    # ---- subcommands --------------------------------------------------------------------------

    def _seed(self, options) -> None:
        from xero_sandbox.seed import seed_organisation

        org = seed_organisation(
            name=options["org"],
            contacts=options["contacts"],
            invoices=options["invoices"],
            seed=options["seed"],
            from_file=options["from_file"],
        )
        self._json({"tenantId": str(org.tenant_id), "name": org.name, "shortCode": org.short_code})

    def _token(self, options) -> None:
        org = self._org(options["org"])
        app = self._app(options["app"])
        scopes = scopes_parse(options["scopes"])
        if not scopes or scopes_invalid(scopes, allow_broad=app.allow_broad_scopes):
            raise CommandError(f"Invalid scopes for this app: {' '.join(scopes)}")
        if options["user"]:
            user = SandboxUser.objects.filter(email=options["user"].lower()).first()
            if user is None:
                raise CommandError(f"No sandbox user {options['user']!r}.")
            role = UserOrgRole.objects.filter(user=user, organisation=org).first()
            if role is None or not role.can_connect_apps:
                raise CommandError("That user cannot connect apps to this organisation (role missing or too low).")
        else:
            user = SandboxUser.objects.filter(email=SCRIPT_EMAIL).first() or services.user_create(
                email=SCRIPT_EMAIL, password=secrets.token_urlsafe(24), first_name="Scripts"
            )
            if not UserOrgRole.objects.filter(user=user, organisation=org).exists():
                services.user_role_set(user=user, org=org, role=OrgRole.STANDARD)
        body = services.token_set_issue(app=app, user=user, orgs=[org], scope=" ".join(scopes))
        body["tenantId"] = str(org.tenant_id)
        self._json(body)

    def _stats(self, options) -> None:
        org = self._org(options["org"])
        logs = RequestLog.objects.filter(organisation=org)
        by_status = dict(logs.values_list("status").annotate(n=Count("id")).order_by("status"))
        by_method = dict(logs.values_list("method").annotate(n=Count("id")).order_by("method"))
        problems = dict(
            logs.exclude(rate_limit_problem="").values_list("rate_limit_problem").annotate(n=Count("id")).order_by()
        )
        faulted = logs.exclude(fault="").count()
        first = logs.order_by("at").values_list("at", flat=True).first()
        last = logs.order_by("-at").values_list("at", flat=True).first()
        self._json(
            {
                "tenantId": str(org.tenant_id),
                "name": org.name,
                "total": logs.count(),
                "byStatus": {str(k): v for k, v in by_status.items()},
                "byMethod": by_method,
                "rateLimited": sum(problems.values()),
                "rateLimitProblems": problems,
                "faulted": faulted,
                "first": first.isoformat() if first else None,
                "last": last.isoformat() if last else None,
            }
        )

    def _fault(self, options) -> None:
        if options["clear"]:
            org = self._org(options["org"]) if options["org"] else None
            self._json({"cleared": faults.fault_clear(org=org)})
            return
        if not options["org"] or not options["kind"]:
            raise CommandError("Give --org and --kind (or --clear).")
        org = self._org(options["org"])
        try:
            rule = faults.fault_set(
                org=org,
                kind=options["kind"],
                count=options["count"],
                status=options["status"],
                delay_ms=options["delay_ms"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self._json(
            {
                "tenantId": str(org.tenant_id),
                "kind": rule.kind,
                "count": rule.remaining,
                "status": rule.status,
                "delayMs": rule.delay_ms,
            }
        )

    def _remove_user(self, options) -> None:
        org = self._org(options["org"])
        user = SandboxUser.objects.filter(email=options["email"].strip().lower()).first()
        if user is None:
            raise CommandError(f"No sandbox user {options['email']!r}.")
        removed = services.user_remove_from_org(user=user, org=org)
        self._json({"tenantId": str(org.tenant_id), "email": user.email, "connectionsRemoved": removed})

    def _disconnect(self, options) -> None:
        org = self._org(options["org"])
        app = self._app(options["app"]) if options["app"] else None
        removed = services.app_disconnect(org=org, app=app)
        self._json({"tenantId": str(org.tenant_id), "connectionsRemoved": removed})

    def _intent_to_receive(self, options) -> None:
        app = self._app(options["app"])
        try:
            result = webhooks.webhook_intent_check(app=app)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self._json(result)
        if not result["passed"]:
            raise CommandError("Intent to receive failed.")

    def _demo(self, options) -> None:
        client_id = getattr(settings, "XERO_CLIENT_ID", "")
        client_secret = getattr(settings, "XERO_CLIENT_SECRET", "")
        redirect_uri = getattr(settings, "XERO_REDIRECT_URI", "")
        webhook_key = getattr(settings, "XERO_WEBHOOK_KEY", "")
        if client_id and client_secret:
            app = SandboxApp.objects.filter(client_id=client_id).first()
            if app is None:
                services.app_create(
                    client_id=client_id,
                    client_secret=client_secret,
                    redirect_uris=[redirect_uri] if redirect_uri else [],
                    name="Merchant Portal (demo)",
                    webhook_url=DEMO_WEBHOOK_URL,
                    webhook_key=webhook_key,
                )
            else:
                services.app_secret_set(app=app, client_secret=client_secret)
                if redirect_uri and redirect_uri not in app.redirect_uris:
                    app.redirect_uris = [*app.redirect_uris, redirect_uri]
                app.webhook_url = DEMO_WEBHOOK_URL
                app.webhook_key = webhook_key
                app.save(update_fields=["redirect_uris", "webhook_url", "webhook_key"])
        else:
            self.stderr.write("XERO_CLIENT_ID / XERO_CLIENT_SECRET are not set: no demo sandbox app created.")

        org = Organisation.objects.filter(name=DEMO_ORG_NAME).order_by("created_at").first()
        if org is None:
            from xero_sandbox.seed import seed_organisation

            org = seed_organisation(name=DEMO_ORG_NAME, contacts=40, invoices=80, seed=1)
        user = SandboxUser.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = services.user_create(email=DEMO_EMAIL, password=DEMO_PASSWORD, first_name="Olive", last_name="Owner")
        else:
            services.user_password_set(user=user, password=DEMO_PASSWORD)
        services.user_role_set(user=user, org=org, role=OrgRole.STANDARD)
        connected = Connection.objects.filter(organisation=org).count()
        self.stdout.write(f"  Xero sandbox login: {DEMO_EMAIL} / {DEMO_PASSWORD}  ({org.name}, tenant {org.tenant_id})")
        if connected:
            self.stdout.write(f"  ({connected} app connection(s) to the demo organisation already exist)")
