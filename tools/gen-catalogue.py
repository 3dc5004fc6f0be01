#!/usr/bin/env python3
"""Build schema/catalogue.json, the Amparo field catalogue (see docs/CATALOGUE.md).

A developer tool, run by hand when the catalogue changes; the build only embeds the
JSON it writes. Python 3 standard library only.

Inputs:
  - the HTCDS 2.0 field sheet (../shared/data/htcds/*.extracted.tsv);
  - tools/catalogue-translations.json: English label -> {"es", "fr", "uk"};
  - Debian iso-codes: JSON lists and gettext catalogues for country/language names.

Usage: tools/gen-catalogue.py [--shared DIR] [--out FILE] [--missing]
  --missing  print the English labels with no translation as a JSON skeleton, and exit
"""

import argparse
import csv
import gettext
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LANGS = ["en", "es", "fr", "uk"]
ISO_JSON = "/usr/share/iso-codes/json"
LOCALEDIR = "/usr/share/locale"

# ----------------------------------------------------------------------------
# Structure: entities, sections, and the HTCDS sheet sections they come from.

ENTITIES = [
    ("case", "Case", ["person", "victim", "case", "referral", "consent", "registration"]),
    ("event", "Historic Trafficking Event", ["event"]),
    ("comment", "Case Comment", ["comment"]),
    ("support_plan", "Support Plan", ["support_plan"]),
    ("perpetrator", "Perpetrator", ["perpetrator_person", "perpetrator"]),
    ("organisation", "Organisation", ["organisation"]),
]

# section name -> (HTCDS sheet section, English label); None: no HTCDS section.
SECTIONS = {
    "person": ("Person", "Person"),
    "victim": ("Person - / Victim Context", "Victim Context"),
    "case": ("Case", "Case"),
    "referral": ("Referral Details", "Referral Details"),
    "consent": ("Consent", "Consent"),
    "registration": (None, "Registration"),
    "event": ("Historic Trafficking Events", "Historic Trafficking Events"),
    "comment": ("Case Comment", "Case Comment"),
    "support_plan": ("Support Plan", "Support Plan"),
    "perpetrator_person": ("Person", "Perpetrator (Person)"),
    "perpetrator": ("Person - / Perpetrator Context", "Perpetrator Context"),
    "organisation": ("Organization", "Organisation"),
}

# prs_ fields repeated in perpetrator_person (kept in sheet order).
PERPETRATOR_PERSON = {
    "prs_FirstName", "prs_MiddleName", "prs_SecondName", "prs_Birthdate", "prs_Gender",
    "prs_Citizenship", "prs_IdentityNumber", "prs_PrimaryLanguage", "prs_SecondaryLanguage",
    "prs_Email", "prs_HomePhone", "prs_MobilePhone", "prs_MailingCity", "prs_MailingCountry",
    "prs_MailingState", "prs_MailingStreet", "prs_MailingPostalCode",
}

# ----------------------------------------------------------------------------
# Field definitions beyond what the sheet says.

TYPE_MAP = {
    "Text": "text", "Picklist or Text": "text", "Long Text": "longtext", "Date": "date",
    "Number": "number", "Geolocation": "number", "Checkbox": "checkbox",
    "Picklist": "picklist", "Multiselect Picklist": "multiselect",
    "Lookup [to organisation]": "lookup", "Lookup [to user]": "lookup",
    "Lookup [to person]": "lookup",
}
LOOKUP_TARGET = {"Lookup [to organisation]": "organisation", "Lookup [to user]": "user",
                 "Lookup [to person]": "person"}

LAT = {"min": -90, "max": 90}
LON = {"min": -180, "max": 180}
NOT_FUTURE = {"not_future": True}
REQUIRED = {"required": True}

# name -> keys that override or extend the sheet ("type" replaces the mapped type).
OVERRIDES = {
    "org_Name": REQUIRED,
    "org_ShippingCountry": {"type": "country"},
    "org_Phone": {"type": "phone"},
    "org_ShippingLongitude": LON,
    "org_ShippingLatitude": LAT,
    "prs_Salutation": {"max_length": 100},
    "prs_FirstName": {"max_length": 100},
    "prs_MiddleName": {"max_length": 100},
    "prs_SecondName": {"max_length": 100},
    "prs_Birthdate": NOT_FUTURE,
    "prs_NumberOfChildren": {"integer": True, "min": 0, "max": 30},
    "prs_PrimaryLanguage": {"type": "language"},
    "prs_SecondaryLanguage": {"type": "language"},
    "prs_Citizenship": {"type": "country", "multiple": True},
    "prs_Email": {"type": "email", "max_length": 254},
    "prs_HomePhone": {"type": "phone"},
    "prs_MobilePhone": {"type": "phone"},
    "prs_MailingCountry": {"type": "country"},
    "prs_MailingLongitude": LON,
    "prs_MailingLatitude": LAT,
    "vic_TraffickingStatus": REQUIRED,
    "vic_AgeWhenTrafficked": {"integer": True, "min": 0, "max": 120},
    "vic_ForcedLabourIndustry": {
        "applies_if": {"field": "vic_TypeOfExploitation", "in": ["ForcedLabour"]}},
    "vic_TypeOfSexExploitation": {
        "applies_if": {"field": "vic_TypeOfExploitation", "in": ["SexualExploitation"]}},
    "per_Organisation": {"type": "lookup", "target": "organisation"},
    "cas_Status": {"default": "Active"},
    "cas_ReasonForCaseClosure": {
        "required_if": {"field": "cas_Status", "in": ["Closed", "ClosedReferred"]}},
    "cas_IncomingReferralDate": NOT_FUTURE,
    "cas_OutgoingReferralDate": NOT_FUTURE,
    "cco_CaseComment": REQUIRED,
    "hte_Longitude": LON,
    "hte_Latitude": LAT,
    "hte_Country": {"type": "country"},
    "hte_Date": {"not_future": True, "not_before_birth": True},
    "hte_Type": REQUIRED,
    "spl_ActualEndDate": NOT_FUTURE,
    "spl_Type": REQUIRED,
}

# English labels the sheet gets wrong or leaves out: (field or field/value) -> label.
LABEL_FIXES = {
    "hte_PostalCode": "Postal Code",
    "per_Organisation": "Organisation",
    "vic_RelationshipToTrafficker/Unaquainted": "Unacquainted",
}

# Descriptions the sheet leaves cut short.
DESCRIPTION_FIXES = {
    "per_RoleDetails": "Detailed description of the perpetrator's role in the process.",
}

IDENTITY = {
    "prs_Salutation", "prs_FirstName", "prs_MiddleName", "prs_SecondName", "prs_Birthdate",
    "prs_IdentityNumber", "prs_Title", "prs_Email", "prs_HomePhone", "prs_MobilePhone",
    "prs_MailingCity", "prs_MailingState", "prs_MailingStreet", "prs_MailingPostalCode",
    "prs_MailingLongitude", "prs_MailingLatitude", "hte_Street", "hte_PostalCode",
    "hte_Longitude", "hte_Latitude",
}  # plus every longtext field

# (field, section or None for every section) -> filter name
FILTERS = {
    ("cas_Status", None): "status",
    ("vic_TraffickingStatus", None): "trafficking_status",
    ("vic_TypeOfExploitation", None): "exploitation",
    ("prs_Gender", "person"): "gender",
    ("prs_Citizenship", "person"): "citizenship",
    ("amp_RegistrationDate", None): "registered",
}

# Amparo extension fields: (name, section, type, label, description, extra keys, values)
EXTENSIONS = [
    ("amp_RegistrationDate", "registration", "date", "Registration Date",
     "The date the person was registered or identified. When absent on create the "
     "server stores today's date.", NOT_FUTURE, None),
    ("amp_RegistrationCountry", "registration", "country", "Registration Country",
     "The country whose registry holds the case; it prefixes the case reference "
     "(e.g. EC-2026-000154).", {}, None),
    ("amp_OwnerOrganisation", "registration", "lookup", "Owner Organisation",
     "The organisation that owns the case.", {"target": "organisation"}, None),
    ("amp_AgeAtRegistration", "registration", "number", "Age at Registration",
     "Whole years between prs_Birthdate and amp_RegistrationDate. Set by the server on "
     "every write (a value sent is replaced), so that figures by age need no identity "
     "data.", {"integer": True, "min": 0, "max": 130}, None),
    ("amp_ConsentDate", "consent", "date", "Consent Date",
     "The date consent was recorded.", NOT_FUTURE, None),
    ("amp_ConsentScope", "consent", "multiselect", "Consent Scope",
     "What the person consented to: registration of their data, referral to other "
     "organisations, use of anonymised data for statistics, sharing across borders.",
     {}, [("Registration", "Registration"), ("Referral", "Referral"),
          ("Statistics", "Statistics"), ("CrossBorder", "Cross-border Sharing")]),
    ("amp_ConsentWithdrawn", "consent", "checkbox", "Consent Withdrawn",
     "The person has withdrawn their consent.", {}, None),
    ("amp_ConsentObtainedBy", "consent", "text", "Consent Obtained By",
     "The staff member who obtained the consent.", {}, None),
    ("amp_ConsentWithdrawnDate", "consent", "date", "Consent Withdrawn Date",
     "The date the person withdrew their consent.", NOT_FUTURE, None),
    ("amp_GuardianConsent", "consent", "checkbox", "Guardian Consent",
     "For a child: a parent or legal guardian has consented (required, with a "
     "best-interest decision as the alternative, before a child's case is shared).",
     {}, None),
    ("amp_BestInterestDecisionDate", "consent", "date", "Best Interest Decision Date",
     "For a child: the date of the recorded best-interest decision that allows "
     "sharing without guardian consent.", NOT_FUTURE, None),
    ("amp_OrgCountry", "organisation", "country", "Country",
     "The country where the organisation works (cross-border referrals are those "
     "to an organisation of another country).", {}, None),
    ("amp_OrgRegion", "organisation", "text", "Region",
     "The region or province the organisation covers.", {"max_length": 200}, None),
    ("amp_OrgCategory", "organisation", "multiselect", "Kind of Organisation",
     "What the organisation is in the referral network (more precise than org_Type).",
     {}, [("NGO", "Non-governmental Organisation"), ("InternationalOrganisation",
           "International Organisation"), ("Police", "Police"), ("Prosecutor", "Prosecutor"),
          ("Court", "Court"), ("Hotline", "Hotline"), ("Shelter", "Shelter"),
          ("HealthService", "Health Service"), ("SocialService", "Social Service"),
          ("LocalAuthority", "Local Authority"), ("Ministry", "Ministry"),
          ("Consulate", "Consulate"), ("LabourInspectorate", "Labour Inspectorate"),
          ("LegalAid", "Legal Aid")]),
    ("amp_OrgRequireMFA", "organisation", "checkbox", "Second Factor Required",
     "Every user of the organisation must sign in with a second factor (TOTP).", {},
     None),
    ("amp_EventSequence", "event", "number", "Event Sequence",
     "The order of the event on the trafficking route (1 = first).",
     {"integer": True, "min": 1, "max": 1000}, None),
]

# Key order of a field object.
FIELD_KEYS = ["name", "section", "type", "label", "description", "core", "extension",
              "identity", "max_length", "integer", "min", "max", "multiple", "target",
              "values", "max_items", "required", "default", "required_if", "applies_if",
              "not_future", "not_before_birth", "filter"]


def camel_label(name):
    """'TransgenderFeminine' -> 'Transgender Feminine'; 'A_Mining' -> 'Mining'."""
    name = re.sub(r"^[A-Z]_", "", name)
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name).split()
    return " ".join(words[:1] + [w if w.isupper() else w.lower() for w in words[1:]])


def clean(s):
    return s.replace("\xa0", " ").strip()


def split_list(s):
    """A sheet cell whose lines the extraction joined with ' / '."""
    return [clean(x) for x in s.split(" / ")] if clean(s) else []


class Labeller:
    """Turns English labels into label objects; remembers the missing ones."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.tr = json.load(f)
        self.missing = set()

    def __call__(self, en):
        t = self.tr.get(en)
        if t is None or any(not t.get(lang) for lang in LANGS[1:]):
            self.missing.add(en)
            t = {}
        return {"en": en, **{lang: t.get(lang, en) for lang in LANGS[1:]}}


def read_sheet(path):
    """Yield (section name, row dict) for every live field of the sections we use."""
    by_htcds = {h: s for s, (h, _) in SECTIONS.items() if h and s != "perpetrator_person"}
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    header = next(i for i, r in enumerate(rows) if r and r[0] == "Section")
    cols = rows[header]
    section = None
    for r in rows[header + 1:]:
        r = r + [""] * (len(cols) - len(r))
        if r[0]:
            section = by_htcds.get(r[0])
            continue
        if section is None or r[1] in ("DEPRECATED", "N/A", ""):
            continue
        d = dict(zip(cols, r))
        if not d["Field Name including Prefix"]:
            d["Field Name including Prefix"] = d["Field Name Prefix"] + d["Field Name"]
        yield section, d


def sheet_field(d, section, L):
    name = d["Field Name including Prefix"]
    extra = dict(OVERRIDES.get(name, {}))
    htype = d["Field Type"]
    ftype = extra.pop("type", None) or TYPE_MAP[htype]
    label = LABEL_FIXES.get(name) or clean(d["Field Label"]) or camel_label(d["Field Name"])
    f = {"name": name, "section": section, "type": ftype, "label": L(label)}
    desc = DESCRIPTION_FIXES.get(name) or clean(d["Description"])
    if desc:
        f["description"] = {"en": desc.replace(" / ", "\n")}
    f["core"] = d["Core"] == "Core"
    f["extension"] = False
    f["identity"] = name in IDENTITY or ftype == "longtext"
    if ftype == "lookup" and "target" not in extra:
        extra["target"] = LOOKUP_TARGET[htype]
    if ftype in ("picklist", "multiselect"):
        names = split_list(d["Value Names (if picklist)"])
        labels = split_list(d["Value Labels (if picklist)"])
        if len(labels) != len(names):
            labels = [""] * len(names)
        vals = []
        for n, lab in zip(names, labels):
            if n:
                lab = LABEL_FIXES.get(name + "/" + n) or lab or camel_label(n)
                vals.append((n, lab))
        f["values"] = vals
    f.update(extra)
    return f


def finish(f, L):
    """Fill type defaults, filter, value labels; return the field with keys in order."""
    if f["type"] == "text":
        f.setdefault("max_length", 200)
    elif f["type"] == "longtext":
        f.setdefault("max_length", 10000)
    if "values" in f:
        if not f["values"]:
            sys.exit("gen-catalogue: %s has no values" % f["name"])
        f["values"] = [{"name": n, "label": L(lab)} for n, lab in f["values"]]
        if f["type"] == "multiselect":
            f["max_items"] = len(f["values"])
    flt = FILTERS.get((f["name"], f["section"])) or FILTERS.get((f["name"], None))
    if flt:
        f["filter"] = flt
    unknown = set(f) - set(FIELD_KEYS)
    assert not unknown, unknown
    return {k: f[k] for k in FIELD_KEYS if k in f}


def codelists():
    def tr(domain):
        return {lang: gettext.translation(domain, LOCALEDIR, languages=[lang], fallback=True)
                for lang in LANGS[1:]}

    def label(name, t):
        return {"en": name, **{lang: t[lang].gettext(name) for lang in LANGS[1:]}}

    with open(os.path.join(ISO_JSON, "iso_3166-1.json"), encoding="utf-8") as f:
        countries = json.load(f)["3166-1"]
    t = tr("iso_3166-1")
    country = [{"code": c["alpha_2"], "label": label(c["name"], t)}
               for c in sorted(countries, key=lambda c: c["alpha_2"])]

    with open(os.path.join(ISO_JSON, "iso_639-2.json"), encoding="utf-8") as f:
        langs = json.load(f)["639-2"]
    t = tr("iso_639-2")
    special = {"mis", "mul", "und", "zxx"}
    language = []
    for x in sorted(langs, key=lambda x: x["alpha_3"]):
        a3 = x["alpha_3"]
        if a3 in special or "-" in a3 or "qaa" <= a3 <= "qtz":
            continue
        language.append({"code": x.get("alpha_2", a3), "alpha3": a3,
                         "label": label(x["name"], t)})
    return {"country": country, "language": language}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(ROOT), "shared"))
    ap.add_argument("--out", default=os.path.join(ROOT, "schema", "catalogue.json"))
    ap.add_argument("--translations",
                    default=os.path.join(ROOT, "tools", "catalogue-translations.json"))
    ap.add_argument("--missing", action="store_true")
    args = ap.parse_args()

    L = Labeller(args.translations)
    sheet = os.path.join(args.shared, "data", "htcds",
                         "HTCDS Field Standards 2.0.extracted.tsv")

    by_section = {s: [] for s in SECTIONS}
    for section, d in read_sheet(sheet):
        by_section[section].append(sheet_field(d, section, L))
        if section == "person" and d["Field Name including Prefix"] in PERPETRATOR_PERSON:
            by_section["perpetrator_person"].append(
                sheet_field(d, "perpetrator_person", L))
    for name, section, ftype, label, desc, extra, values in EXTENSIONS:
        f = {"name": name, "section": section, "type": ftype, "label": L(label),
             "description": {"en": desc}, "core": False, "extension": True,
             "identity": ftype == "longtext"}
        if values:
            f["values"] = values
        f.update(extra)
        by_section[section].append(f)

    fields, seen = [], set()
    for _, _, secs in ENTITIES:
        for s in secs:
            if s in seen:
                sys.exit("gen-catalogue: section %s in two entities" % s)
            seen.add(s)
            fields += [finish(f, L) for f in by_section[s]]

    sections = []
    for s in [s for _, _, secs in ENTITIES for s in secs]:
        htcds, label = SECTIONS[s]
        sec = {"name": s}
        if htcds:
            sec["htcds"] = htcds
        sec["label"] = L(label)
        sections.append(sec)

    cat = {
        "catalogue": "amparo",
        "version": 1,
        "standard": "HTCDS 2.0",
        "languages": LANGS,
        "extension_prefix": "amp_",
        "entities": [{"name": n, "label": L(lab), "sections": secs}
                     for n, lab, secs in ENTITIES],
        "sections": sections,
        "fields": fields,
        "codelists": codelists(),
    }

    if args.missing:
        json.dump({en: {"es": "", "fr": "", "uk": ""} for en in sorted(L.missing)},
                  sys.stdout, indent=1, ensure_ascii=False)
        print()
        return
    if L.missing:
        sys.exit("gen-catalogue: no translation for: " + "; ".join(sorted(L.missing)))

    text = json.dumps(cat, indent=1, ensure_ascii=False) + "\n"
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, args.out)
    print("gen-catalogue: wrote %s (%d fields, %d bytes)"
          % (args.out, len(fields), len(text.encode("utf-8"))))


if __name__ == "__main__":
    main()
