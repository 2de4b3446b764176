"""Sandbox Accounting API: contacts, contact groups and membership, items, accounts, tax rates, organisation."""

import pytest

from xero_sandbox.api.testing import api_session, org_with_defaults
from xero_sandbox.models import Contact, ContactGroup, Item

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return org_with_defaults("Contact Org")


@pytest.fixture
def api(org):
    return api_session(org)


def put_contact(api, **fields):
    response = api.put(api.api + "Contacts", json={"Contacts": [{"Name": "Willow Dental", **fields}]})
    return response


def errors(response):
    return [m["Message"] for e in response.json()["Elements"] for m in e["ValidationErrors"]]


# ---- contacts --------------------------------------------------------------------------------------------------


def test_contact_round_trip(api):
    created = put_contact(
        api,
        FirstName="Ava",
        EmailAddress="ava@willow.example",
        Addresses=[{"AddressType": "STREET", "AddressLine1": "1 Main St", "City": "Newark"}],
        Phones=[{"PhoneType": "MOBILE", "PhoneNumber": "555-1234"}],
    ).json()["Contacts"][0]
    fetched = api.get(api.api + f"Contacts/{created['ContactID']}").json()["Contacts"][0]
    assert fetched["Name"] == "Willow Dental"
    assert fetched["EmailAddress"] == "ava@willow.example"
    assert fetched["Addresses"][0]["City"] == "Newark"
    assert fetched["Phones"][0]["PhoneNumber"] == "555-1234"
    assert fetched["ContactStatus"] == "ACTIVE"


def test_duplicate_active_contact_name(api):
    put_contact(api)
    response = put_contact(api)
    assert response.status_code == 400
    assert errors(response) == [
        "The contact name Willow Dental is already assigned to another contact. "
        "The contact name must be unique across all active contacts."
    ]


def test_an_archived_contact_frees_its_name(api):
    first = put_contact(api).json()["Contacts"][0]
    api.post(api.api + f"Contacts/{first['ContactID']}", json={"Contacts": [{"ContactStatus": "ARCHIVED"}]})
    assert put_contact(api).status_code == 200
    assert Contact.objects.filter(name="Willow Dental").count() == 2


def test_contact_update_moves_updated_date(api):
    created = put_contact(api).json()["Contacts"][0]
    before = Contact.objects.get(id=created["ContactID"]).updated_at
    api.post(api.api + "Contacts", json={"Contacts": [{"ContactID": created["ContactID"], "LastName": "Ng"}]})
    contact = Contact.objects.get(id=created["ContactID"])
    assert (contact.last_name, contact.updated_at > before) == ("Ng", True)


def test_contacts_summarize_errors_false(api):
    put_contact(api)
    response = api.put(
        api.api + "Contacts",
        params={"summarizeErrors": "false"},
        json={"Contacts": [{"Name": "Willow Dental"}, {"Name": "Fresh Name"}]},
    )
    assert response.status_code == 200
    first, second = response.json()["Contacts"]
    assert (first["StatusAttributeString"], second["StatusAttributeString"]) == ("ERROR", "OK")
    assert Contact.objects.filter(name="Fresh Name").exists()


def test_unknown_contact_is_404(api):
    response = api.get(api.api + "Contacts/00000000-0000-0000-0000-000000000009")
    assert response.status_code == 404


# ---- contact groups --------------------------------------------------------------------------------------------


def test_contact_group_membership(api, org):
    contact = put_contact(api).json()["Contacts"][0]
    group = api.put(api.api + "ContactGroups", json={"ContactGroups": [{"Name": "VIP"}]}).json()["ContactGroups"][0]
    added = api.put(
        api.api + f"ContactGroups/{group['ContactGroupID']}/Contacts",
        json={"Contacts": [{"ContactID": contact["ContactID"]}]},
    )
    assert added.status_code == 200, added.text
    detail = api.get(api.api + f"ContactGroups/{group['ContactGroupID']}").json()["ContactGroups"][0]
    assert [c["ContactID"] for c in detail["Contacts"]] == [contact["ContactID"]]
    listed = api.get(api.api + f"Contacts/{contact['ContactID']}").json()["Contacts"][0]
    assert [g["Name"] for g in listed["ContactGroups"]] == ["VIP"]

    removed = api.delete(api.api + f"ContactGroups/{group['ContactGroupID']}/Contacts/{contact['ContactID']}")
    assert removed.status_code == 204
    assert not ContactGroup.objects.get(id=group["ContactGroupID"]).contacts.exists()


def test_delete_all_members_and_the_group(api):
    contact = put_contact(api).json()["Contacts"][0]
    group = api.put(api.api + "ContactGroups", json={"ContactGroups": [{"Name": "VIP"}]}).json()["ContactGroups"][0]
    url = api.api + f"ContactGroups/{group['ContactGroupID']}"
    api.put(url + "/Contacts", json={"Contacts": [{"ContactID": contact["ContactID"]}]})
    assert api.delete(url + "/Contacts").status_code == 204
    assert not ContactGroup.objects.get(id=group["ContactGroupID"]).contacts.exists()
    deleted = api.post(url, json={"ContactGroups": [{"Status": "DELETED"}]})
    assert deleted.json()["ContactGroups"][0]["Status"] == "DELETED"
    names = [g["Name"] for g in api.get(api.api + "ContactGroups").json()["ContactGroups"]]
    assert "VIP" not in names


def test_default_contact_groups_are_listed(api):
    names = [g["Name"] for g in api.get(api.api + "ContactGroups").json()["ContactGroups"]]
    assert "Preferred Customers" in names


# ---- items -----------------------------------------------------------------------------------------------------


def test_item_codes_are_unique(api):
    body = {
        "Items": [{"Code": "GUTTER", "Name": "Gutter clean", "SalesDetails": {"UnitPrice": 120, "AccountCode": "200"}}]
    }
    assert api.put(api.api + "Items", json=body).status_code == 200
    response = api.put(api.api + "Items", json=body)
    assert response.status_code == 400
    assert errors(response) == ["Price List Item with Code 'GUTTER' already exists"]


def test_item_post_updates_by_code(api):
    api.put(api.api + "Items", json={"Items": [{"Code": "GUTTER", "Name": "Gutter clean"}]})
    response = api.post(api.api + "Items", json={"Items": [{"Code": "GUTTER", "Name": "Gutter clean (2 storey)"}]})
    assert response.json()["Items"][0]["Name"] == "Gutter clean (2 storey)"
    assert Item.objects.filter(code="GUTTER").count() == 1


def test_invoice_line_takes_an_items_defaults(api):
    contact = put_contact(api).json()["Contacts"][0]
    invoice = api.put(
        api.api + "Invoices",
        json={
            "Invoices": [
                {
                    "Type": "ACCREC",
                    "Contact": {"ContactID": contact["ContactID"]},
                    "LineItems": [{"ItemCode": "CALL-OUT", "Quantity": 2}],
                }
            ]
        },
    ).json()["Invoices"][0]
    line = invoice["LineItems"][0]
    assert (line["UnitAmount"], line["AccountCode"], line["TaxType"], line["LineAmount"]) == (
        65.0,
        "200",
        "OUTPUT",
        130.0,
    )


# ---- settings ----------------------------------------------------------------------------------------------------


def test_chart_of_accounts(api):
    accounts = {a["Code"]: a for a in api.get(api.api + "Accounts").json()["Accounts"]}
    assert (accounts["090"]["Name"], accounts["090"]["Type"]) == ("Business Bank Account", "BANK")
    assert accounts["091"]["Type"] == "BANK"
    assert {accounts[c]["Type"] for c in ("200", "260", "270")} == {"REVENUE"}
    assert (accounts["820"]["Name"], accounts["820"]["Type"]) == ("Sales Tax", "CURRLIAB")
    bank_only = api.get(api.api + "Accounts", params={"where": 'Type=="BANK"'}).json()["Accounts"]
    assert sorted(a["Code"] for a in bank_only) == ["090", "091"]


def test_tax_rates(api):
    rates = {r["TaxType"]: r for r in api.get(api.api + "TaxRates").json()["TaxRates"]}
    assert (rates["OUTPUT"]["Name"], rates["OUTPUT"]["EffectiveRate"]) == ("Tax on Sales", 8.875)
    assert rates["NONE"]["EffectiveRate"] == 0.0
    assert "INPUT" in rates


def test_organisation(api, org):
    body = api.get(api.api + "Organisation").json()
    assert (body["Status"], body["ProviderName"]) == ("OK", "Xero sandbox")
    organisation = body["Organisations"][0]
    assert organisation["OrganisationID"] == str(org.tenant_id)
    assert (organisation["Name"], organisation["ShortCode"], organisation["BaseCurrency"]) == (
        "Contact Org",
        org.short_code,
        "USD",
    )
