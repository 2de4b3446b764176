"""Create (or keep) the demo merchant and its fixed logins, and print them. Demo mode (DEBUG) only."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from portal.models import Merchant, Role, User
from portal.services import membership_add, merchant_create

DEMO_MERCHANT = "Demo Plumbing Co"
DEMO_SLUG = "demo-plumbing-co"
DEMO_ADMIN = ("admin@demo.example", "demo-admin-pass")
DEMO_STAFF = ("staff@demo.example", "demo-staff-pass")


class Command(BaseCommand):
    help = "Create the demo merchant with an admin login and a staff login (DEBUG only), then print them."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Refusing to create demo logins with DEBUG off: they have public passwords.")
        with transaction.atomic():
            admin = self._user(*DEMO_ADMIN, full_name="Dana Admin")
            staff = self._user(*DEMO_STAFF, full_name="Sam Staff", is_staff=True, is_superuser=True)
            merchant = Merchant.objects.filter(slug=DEMO_SLUG).first()
            if merchant is None:
                merchant = merchant_create(name=DEMO_MERCHANT, admin=admin, slug=DEMO_SLUG)
            membership_add(merchant=merchant, user=admin, role=Role.ADMIN)
            membership_add(merchant=merchant, user=staff, role=Role.MEMBER)
        self.stdout.write(
            "\n"
            f"  Demo merchant   {merchant.name}\n"
            f"  Merchant admin  {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}   (portal: http://127.0.0.1:8000/)\n"
            f"  Platform staff  {DEMO_STAFF[0]} / {DEMO_STAFF[1]}   (admin:  http://127.0.0.1:8000/admin/)\n"
        )

    @staticmethod
    def _user(email: str, password: str, **fields) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=password, **fields)
        else:
            # Same logins every run: reset the password in case someone changed it.
            for key, value in fields.items():
                setattr(user, key, value)
            user.set_password(password)
            user.save()
        return user
