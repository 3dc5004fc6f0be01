/* test_validate.c — value checks and catalogue-driven record validation. */
#include "testutil.h"

#include "core/validate.h"

/* ---- helpers --------------------------------------------------------------- */

static validate_ctx ctx_en(void)
{
    validate_ctx v = {.today = TEST_TODAY, .lang = "en"};
    return v;
}

/* Validates JSON text as `entity` with ctx; returns the count; err is filled. */
static int check_ctx(const char *entity, const char *text, const validate_ctx *v, amp_err *err)
{
    json_t *doc = tu_json(text);
    size_t before = json_array_size(err->fields);
    int n = validate_record(tu_cat, entity, doc, v, NULL, err);
    json_decref(doc);
    assert_int_equal(n, (int)(json_array_size(err->fields) - before));
    return n;
}

static int check(const char *entity, const char *text, amp_err *err)
{
    validate_ctx v = ctx_en();
    return check_ctx(entity, text, &v, err);
}

/* The message of the (first) failure of `field`, or NULL. */
static const char *message_of(const amp_err *err, const char *field)
{
    size_t i;
    json_t *f;
    json_array_foreach (err->fields, i, f) {
        if (strcmp(json_string_value(json_object_get(f, "field")), field) == 0)
            return json_string_value(json_object_get(f, "message"));
    }
    return NULL;
}

/* Asserts that the case document (with a valid trafficking status added) fails
 * exactly once, on field with rule. */
#define STATUS "\"vic_TraffickingStatus\":\"PossibleVictimOfTrafficking\""

static void expect_case_error(const char *members, const char *field, const char *rule)
{
    char text[4096];
    amp_err err = {0};
    snprintf(text, sizeof text, "{" STATUS ",%s}", members);
    int n = check("case", text, &err);
    if (n != 1 || !tu_has_field_error(&err, field, rule)) {
        char *dump = json_dumps(err.fields, JSON_COMPACT);
        print_error("doc %s: expected one %s/%s, got %s\n", text, field, rule, dump);
        free(dump);
        amp_err_clear(&err);
        fail();
    }
    amp_err_clear(&err);
}

static void expect_case_ok(const char *members)
{
    char text[4096];
    amp_err err = {0};
    snprintf(text, sizeof text, "{" STATUS "%s%s}", *members ? "," : "", members);
    int n = check("case", text, &err);
    if (n != 0) {
        char *dump = json_dumps(err.fields, JSON_COMPACT);
        print_error("doc %s: expected valid, got %s\n", text, dump);
        free(dump);
        amp_err_clear(&err);
        fail();
    }
    amp_err_clear(&err);
}

/* ---- scalar checks ---------------------------------------------------------- */

static void test_date(void **state)
{
    (void)state;
    assert_true(validate_date("2024-02-29"));  /* leap year */
    assert_false(validate_date("2026-02-29")); /* not a leap year */
    assert_true(validate_date("2000-02-29"));  /* divisible by 400 */
    assert_false(validate_date("2100-02-29")); /* divisible by 100 only */
    assert_false(validate_date("1900-02-29"));
    assert_true(validate_date("2026-02-28"));
    assert_true(validate_date("2026-12-31"));
    assert_true(validate_date("2026-01-31"));
    assert_false(validate_date("2026-04-31"));
    assert_true(validate_date("2026-04-30"));
    assert_false(validate_date("2026-13-01"));
    assert_false(validate_date("2026-00-10"));
    assert_false(validate_date("2026-01-00"));
    assert_false(validate_date("2026-01-32"));
    assert_true(validate_date("1900-01-01"));
    assert_false(validate_date("1899-12-31"));
    assert_true(validate_date("2200-12-31"));
    assert_false(validate_date("2201-01-01"));
    /* formats */
    assert_false(validate_date("2026/01/01"));
    assert_false(validate_date("2026-1-01"));
    assert_false(validate_date("26-01-2026"));
    assert_false(validate_date("15-06-2026"));
    assert_false(validate_date("2026-06-15T00:00"));
    assert_false(validate_date("2026-06-1 "));
    assert_false(validate_date(" 2026-06-1"));
    assert_false(validate_date("+026-06-15"));
    assert_false(validate_date("2026-+6-15"));
    assert_false(validate_date("abcd-ef-gh"));
    assert_false(validate_date(""));
    assert_false(validate_date(NULL));
}

static void test_e164(void **state)
{
    (void)state;
    assert_true(validate_e164("+593991234567"));
    assert_true(validate_e164("+12345678"));          /* 8 digits */
    assert_true(validate_e164("+123456789012345"));   /* 15 digits */
    assert_false(validate_e164("+1234567"));          /* 7 */
    assert_false(validate_e164("+1234567890123456")); /* 16 */
    assert_false(validate_e164("593991234567"));      /* no + */
    assert_false(validate_e164("+0593991234567"));    /* leading 0 */
    assert_false(validate_e164("+593 99 123 4567"));
    assert_false(validate_e164("+593-991234567"));
    assert_false(validate_e164("++593991234567"));
    assert_false(validate_e164("+"));
    assert_false(validate_e164(""));
    assert_false(validate_e164(NULL));
}

static void test_email(void **state)
{
    (void)state;
    assert_true(validate_email("ana@example.org"));
    assert_true(validate_email("ana.maria+casos@sub.example.ec"));
    assert_false(validate_email("ana"));
    assert_false(validate_email("ana@"));
    assert_false(validate_email("@example.org"));
    assert_false(validate_email("ana@example"));
    assert_false(validate_email("ana@.org"));
    assert_false(validate_email("ana@example."));
    assert_false(validate_email("ana@b@example.org"));
    assert_false(validate_email("ana maria@example.org"));
    assert_false(validate_email("ana@example.org\t"));
    assert_false(validate_email(""));
    assert_false(validate_email(NULL));
}

static void test_identifier(void **state)
{
    (void)state;
    char id[80];
    assert_true(validate_identifier("fundacion-renacer_quito.2"));
    assert_true(validate_identifier("a"));
    memset(id, 'a', 64);
    id[64] = '\0';
    assert_true(validate_identifier(id));
    id[64] = 'a';
    id[65] = '\0';
    assert_false(validate_identifier(id));
    assert_false(validate_identifier(""));
    assert_false(validate_identifier(NULL));
    assert_false(validate_identifier("a b"));
    assert_false(validate_identifier("a/b"));
    assert_false(validate_identifier("../etc"));
    assert_false(validate_identifier("fundación"));
    assert_false(validate_identifier("a'b"));
}

static void test_utf8_length(void **state)
{
    (void)state;
    assert_int_equal(utf8_length(""), 0);
    assert_int_equal(utf8_length("abc"), 3);
    assert_int_equal(utf8_length("Año"), 3);              /* 4 bytes */
    assert_int_equal(utf8_length("Київ"), 4);             /* 8 bytes */
    assert_int_equal(utf8_length("\xF0\x9F\x98\x80"), 1); /* U+1F600, 4 bytes */
    assert_int_equal(utf8_length("a€b"), 3);              /* 3-byte sequence */
}

/* ---- validate_record: one rule at a time -------------------------------------- */

static void test_minimal_valid(void **state)
{
    (void)state;
    expect_case_ok("");
    expect_case_ok("\"prs_Gender\":\"Feminine\",\"prs_FirstName\":\"Ana\","
                   "\"vic_TypeOfExploitation\":[\"ForcedLabour\",\"SexualExploitation\"],"
                   "\"vic_ForcedLabourIndustry\":\"F_Construction\","
                   "\"prs_Citizenship\":[\"CO\",\"EC\"],\"prs_Birthdate\":\"2000-02-29\","
                   "\"prs_MobilePhone\":\"+593991234567\",\"prs_Email\":\"ana@example.org\","
                   "\"vic_AgeWhenTrafficked\":17,\"prs_Deceased\":false,"
                   "\"prs_MailingLatitude\":-0.1807,\"cas_Status\":\"Active\"");
}

static void test_unknown_field(void **state)
{
    (void)state;
    expect_case_error("\"prs_Nickname\":\"Ani\"", "prs_Nickname", "unknown_field");
    /* an event field is not a case field */
    expect_case_error("\"hte_City\":\"Quito\"", "hte_City", "unknown_field");
}

static void test_picklist(void **state)
{
    (void)state;
    amp_err err = {0};
    expect_case_error("\"prs_Gender\":\"Female\"", "prs_Gender", "picklist");
    expect_case_error("\"prs_Gender\":\"feminine\"", "prs_Gender", "picklist");
    expect_case_error("\"prs_Gender\":\"\"", "prs_Gender", "picklist");
    expect_case_error("\"prs_Gender\":1", "prs_Gender", "type");
    expect_case_error("\"prs_Gender\":[\"Feminine\"]", "prs_Gender", "type");
    assert_int_equal(check("case", "{" STATUS ",\"prs_Gender\":\"Female\"}", &err), 1);
    assert_string_equal(message_of(&err, "prs_Gender"),
                        "prs_Gender: 'Female' is not one of the allowed values");
    amp_err_clear(&err);
}

static void test_multiselect(void **state)
{
    (void)state;
    amp_err err = {0};
    expect_case_ok("\"vic_MethodsOfControl\":[\"DebtBondage\",\"WithholdsDocuments\"]");
    expect_case_ok("\"vic_MethodsOfControl\":[]");
    expect_case_error("\"vic_MethodsOfControl\":[\"DebtBondage\",\"DebtBondage\"]",
                      "vic_MethodsOfControl", "duplicate");
    expect_case_error("\"vic_MethodsOfControl\":\"DebtBondage\"", "vic_MethodsOfControl", "type");
    expect_case_error("\"vic_MethodsOfControl\":[\"DebtBondage\",3]", "vic_MethodsOfControl",
                      "type");
    expect_case_error("\"vic_MethodsOfControl\":[\"Debt\"]", "vic_MethodsOfControl", "picklist");
    /* max_items: vic_TypeOfSexExploitation allows 4 */
    expect_case_error("\"vic_TypeOfExploitation\":[\"SexualExploitation\"],"
                      "\"vic_TypeOfSexExploitation\":[\"Prostitution\",\"Pornography\","
                      "\"RemoteInteractiveServices\",\"PrivateSexualServices\",\"Prostitution\"]",
                      "vic_TypeOfSexExploitation", "max_items");
    /* the duplicate message names the value */
    assert_int_equal(check("case",
                           "{" STATUS ",\"vic_TypeOfExploitation\":[\"Servitude\",\"Servitude\"]}",
                           &err),
                     1);
    assert_string_equal(message_of(&err, "vic_TypeOfExploitation"),
                        "vic_TypeOfExploitation: 'Servitude' is given twice");
    amp_err_clear(&err);
}

static void test_country(void **state)
{
    (void)state;
    expect_case_ok("\"prs_MailingCountry\":\"EC\"");
    expect_case_error("\"prs_MailingCountry\":\"XX\"", "prs_MailingCountry", "country");
    expect_case_error("\"prs_MailingCountry\":\"ec\"", "prs_MailingCountry", "country");
    expect_case_error("\"prs_MailingCountry\":\"ECU\"", "prs_MailingCountry", "country");
    /* multiple: an array of codes */
    expect_case_ok("\"prs_Citizenship\":[\"UA\",\"MD\"]");
    expect_case_error("\"prs_Citizenship\":[\"UA\",\"XX\"]", "prs_Citizenship", "country");
    expect_case_error("\"prs_Citizenship\":\"UA\"", "prs_Citizenship", "type");
    expect_case_error("\"prs_Citizenship\":[\"UA\",\"UA\"]", "prs_Citizenship", "duplicate");
}

static void test_language(void **state)
{
    (void)state;
    expect_case_ok("\"prs_PrimaryLanguage\":\"spa\"");
    expect_case_ok("\"prs_PrimaryLanguage\":\"es\"");
    expect_case_ok("\"prs_SecondaryLanguage\":\"uk\"");
    expect_case_ok("\"prs_SecondaryLanguage\":\"ukr\"");
    expect_case_error("\"prs_PrimaryLanguage\":\"xx\"", "prs_PrimaryLanguage", "language");
    expect_case_error("\"prs_PrimaryLanguage\":\"ES\"", "prs_PrimaryLanguage", "language");
    expect_case_error("\"prs_PrimaryLanguage\":\"spanish\"", "prs_PrimaryLanguage", "language");
}

static void test_phone_email(void **state)
{
    (void)state;
    expect_case_ok("\"prs_HomePhone\":\"+59322345678\"");
    expect_case_error("\"prs_HomePhone\":\"022345678\"", "prs_HomePhone", "phone");
    expect_case_error("\"prs_MobilePhone\":\"+593 99 123 4567\"", "prs_MobilePhone", "phone");
    expect_case_error("\"prs_MobilePhone\":593991234567", "prs_MobilePhone", "type");
    expect_case_error("\"prs_Email\":\"ana.example.org\"", "prs_Email", "email");
}

static void test_text_length_counts_characters(void **state)
{
    (void)state;
    char members[2048], name[1024];
    size_t o = 0;
    /* 100 Cyrillic letters: 200 bytes, 100 characters: allowed (max_length 100) */
    for (int i = 0; i < 100; i++)
        o += (size_t)snprintf(name + o, sizeof name - o, "Ж");
    assert_int_equal(strlen(name), 200);
    snprintf(members, sizeof members, "\"prs_FirstName\":\"%s\"", name);
    expect_case_ok(members);
    /* 101 refused */
    snprintf(members, sizeof members, "\"prs_FirstName\":\"%sЖ\"", name);
    expect_case_error(members, "prs_FirstName", "max_length");
    /* ASCII: 100 ok, 101 refused */
    memset(name, 'a', 100);
    name[100] = '\0';
    snprintf(members, sizeof members, "\"prs_FirstName\":\"%s\"", name);
    expect_case_ok(members);
    snprintf(members, sizeof members, "\"prs_FirstName\":\"%sa\"", name);
    expect_case_error(members, "prs_FirstName", "max_length");

    amp_err err = {0};
    snprintf(members, sizeof members, "{" STATUS ",\"prs_FirstName\":\"%sa\"}", name);
    assert_int_equal(check("case", members, &err), 1);
    assert_string_equal(message_of(&err, "prs_FirstName"),
                        "prs_FirstName is longer than 100 characters");
    amp_err_clear(&err);
}

static void test_control_characters(void **state)
{
    (void)state;
    expect_case_error("\"prs_FirstName\":\"Ana\\nMaria\"", "prs_FirstName", "control_characters");
    expect_case_error("\"prs_FirstName\":\"Ana\\tMaria\"", "prs_FirstName", "control_characters");
    expect_case_error("\"prs_FirstName\":\"Ana\\u0001\"", "prs_FirstName", "control_characters");
    expect_case_error("\"prs_FirstName\":\"Ana\\u007f\"", "prs_FirstName", "control_characters");
    /* longtext: newlines (and tabs) allowed, other control characters not */
    expect_case_ok("\"cas_Status\":\"Closed\","
                   "\"cas_ReasonForCaseClosure\":\"Returned home.\\r\\nReferred to NGO.\\tOK\"");
    expect_case_error("\"cas_Status\":\"Closed\",\"cas_ReasonForCaseClosure\":\"Ret\\u0007urned\"",
                      "cas_ReasonForCaseClosure", "control_characters");
}

static void test_numbers(void **state)
{
    (void)state;
    amp_err err = {0};
    expect_case_ok("\"vic_AgeWhenTrafficked\":0");
    expect_case_ok("\"vic_AgeWhenTrafficked\":120");
    expect_case_ok("\"vic_AgeWhenTrafficked\":12.0"); /* a whole number written as real */
    expect_case_error("\"vic_AgeWhenTrafficked\":121", "vic_AgeWhenTrafficked", "max");
    expect_case_error("\"vic_AgeWhenTrafficked\":-1", "vic_AgeWhenTrafficked", "min");
    expect_case_error("\"vic_AgeWhenTrafficked\":12.5", "vic_AgeWhenTrafficked", "integer");
    expect_case_error("\"vic_AgeWhenTrafficked\":\"12\"", "vic_AgeWhenTrafficked", "type");
    expect_case_error("\"vic_AgeWhenTrafficked\":true", "vic_AgeWhenTrafficked", "type");
    /* non-integer fields take fractions */
    expect_case_ok("\"prs_MailingLatitude\":-0.5,\"prs_MailingLongitude\":-78.4678");
    expect_case_error("\"prs_MailingLatitude\":90.5", "prs_MailingLatitude", "max");
    expect_case_error("\"prs_MailingLongitude\":-180.01", "prs_MailingLongitude", "min");

    assert_int_equal(check("case", "{" STATUS ",\"vic_AgeWhenTrafficked\":121}", &err), 1);
    assert_string_equal(message_of(&err, "vic_AgeWhenTrafficked"),
                        "vic_AgeWhenTrafficked must be at most 120");
    amp_err_clear(&err);
}

static void test_checkbox(void **state)
{
    (void)state;
    expect_case_ok("\"prs_Deceased\":true");
    expect_case_ok("\"con_Consent\":false");
    expect_case_error("\"prs_Deceased\":\"yes\"", "prs_Deceased", "type");
    expect_case_error("\"prs_Deceased\":1", "prs_Deceased", "type");
    expect_case_error("\"con_Consent\":\"true\"", "con_Consent", "type");
}

static void test_required(void **state)
{
    (void)state;
    amp_err err = {0};
    assert_int_equal(check("case", "{}", &err), 1);
    assert_true(tu_has_field_error(&err, "vic_TraffickingStatus", "required"));
    assert_string_equal(message_of(&err, "vic_TraffickingStatus"),
                        "vic_TraffickingStatus is required");
    amp_err_clear(&err);
    /* a required picklist given as blank fails as a value and as required */
    assert_int_equal(check("case", "{\"vic_TraffickingStatus\":\"  \"}", &err), 2);
    assert_true(tu_has_field_error(&err, "vic_TraffickingStatus", "required"));
    assert_true(tu_has_field_error(&err, "vic_TraffickingStatus", "picklist"));
    amp_err_clear(&err);
    /* required in child entities */
    assert_int_equal(check("event", "{\"hte_City\":\"Quito\"}", &err), 1);
    assert_true(tu_has_field_error(&err, "hte_Type", "required"));
    amp_err_clear(&err);
    assert_int_equal(check("comment", "{\"cco_CaseComment\":\"\"}", &err), 1);
    assert_true(tu_has_field_error(&err, "cco_CaseComment", "required"));
    amp_err_clear(&err);
}

static void test_required_if(void **state)
{
    (void)state;
    amp_err err = {0};
    expect_case_error("\"cas_Status\":\"Closed\"", "cas_ReasonForCaseClosure", "required_if");
    expect_case_error("\"cas_Status\":\"ClosedReferred\"", "cas_ReasonForCaseClosure",
                      "required_if");
    expect_case_error("\"cas_Status\":\"Closed\",\"cas_ReasonForCaseClosure\":\"   \"",
                      "cas_ReasonForCaseClosure", "required_if");
    expect_case_ok("\"cas_Status\":\"Closed\",\"cas_ReasonForCaseClosure\":\"Returned home\"");
    expect_case_ok("\"cas_Status\":\"Active\"");
    expect_case_ok("\"cas_Status\":\"FollowUp\",\"cas_ReasonForCaseClosure\":\"early note\"");
    assert_int_equal(check("case", "{" STATUS ",\"cas_Status\":\"Closed\"}", &err), 1);
    assert_string_equal(
        message_of(&err, "cas_ReasonForCaseClosure"),
        "cas_ReasonForCaseClosure is required when cas_Status is Closed or ClosedReferred");
    amp_err_clear(&err);
}

static void test_applies_if(void **state)
{
    (void)state;
    expect_case_error("\"vic_ForcedLabourIndustry\":\"F_Construction\"", "vic_ForcedLabourIndustry",
                      "applies_if");
    expect_case_error("\"vic_TypeOfExploitation\":[\"SexualExploitation\"],"
                      "\"vic_ForcedLabourIndustry\":\"F_Construction\"",
                      "vic_ForcedLabourIndustry", "applies_if");
    expect_case_ok("\"vic_TypeOfExploitation\":[\"SexualExploitation\",\"ForcedLabour\"],"
                   "\"vic_ForcedLabourIndustry\":\"F_Construction\"");
    expect_case_error("\"vic_TypeOfExploitation\":[\"ForcedLabour\"],"
                      "\"vic_TypeOfSexExploitation\":[\"Prostitution\"]",
                      "vic_TypeOfSexExploitation", "applies_if");
    /* an absent (null) conditional field is fine whatever the condition */
    expect_case_ok("\"vic_ForcedLabourIndustry\":null");
}

static void test_not_future(void **state)
{
    (void)state;
    amp_err err = {0};
    expect_case_ok("\"prs_Birthdate\":\"" TEST_TODAY "\"");
    expect_case_error("\"prs_Birthdate\":\"2026-06-16\"", "prs_Birthdate", "not_future");
    expect_case_error("\"amp_RegistrationDate\":\"2027-01-01\"", "amp_RegistrationDate",
                      "not_future");
    expect_case_error("\"prs_Birthdate\":\"2026-02-29\"", "prs_Birthdate", "date");
    expect_case_error("\"prs_Birthdate\":\"15/06/2000\"", "prs_Birthdate", "date");
    /* fields without not_future take future dates */
    assert_int_equal(check("support_plan",
                           "{\"spl_Type\":\"Legal\",\"spl_PlannedEndDate\":\"2030-01-01\"}", &err),
                     0);
    assert_int_equal(check("case", "{" STATUS ",\"prs_Birthdate\":\"2026-06-16\"}", &err), 1);
    assert_string_equal(message_of(&err, "prs_Birthdate"),
                        "prs_Birthdate cannot be in the future (" TEST_TODAY ")");
    amp_err_clear(&err);
}

static void test_not_before_birth(void **state)
{
    (void)state;
    amp_err err = {0};
    validate_ctx v = ctx_en();
    const char *ev = "{\"hte_Type\":\"Recruitment\",\"hte_Date\":\"1999-12-31\"}";
    /* without a birthdate any date passes */
    assert_int_equal(check_ctx("event", ev, &v, &err), 0);
    v.birthdate = "2000-01-01";
    assert_int_equal(check_ctx("event", ev, &v, &err), 1);
    assert_true(tu_has_field_error(&err, "hte_Date", "not_before_birth"));
    assert_string_equal(message_of(&err, "hte_Date"),
                        "hte_Date cannot be before the birthdate (2000-01-01)");
    amp_err_clear(&err);
    /* the prefix makes the path */
    v.prefix = "events[2].";
    assert_int_equal(check_ctx("event", ev, &v, &err), 1);
    assert_true(tu_has_field_error(&err, "events[2].hte_Date", "not_before_birth"));
    amp_err_clear(&err);
    /* the birthday itself is fine */
    assert_int_equal(
        check_ctx("event", "{\"hte_Type\":\"Transit\",\"hte_Date\":\"2000-01-01\"}", &v, &err), 0);
}

static void test_age_consistency(void **state)
{
    (void)state;
    amp_err err = {0};
    /* born 2010-06-16: 15 on 2026-06-15 (birthday tomorrow) */
    expect_case_ok("\"prs_Birthdate\":\"2010-06-16\",\"vic_AgeWhenTrafficked\":15");
    expect_case_error("\"prs_Birthdate\":\"2010-06-16\",\"vic_AgeWhenTrafficked\":16",
                      "vic_AgeWhenTrafficked", "age_consistency");
    /* born 2010-06-15: 16 today */
    expect_case_ok("\"prs_Birthdate\":\"2010-06-15\",\"vic_AgeWhenTrafficked\":16");
    expect_case_error("\"prs_Birthdate\":\"2010-06-15\",\"vic_AgeWhenTrafficked\":17",
                      "vic_AgeWhenTrafficked", "age_consistency");
    assert_int_equal(check("case",
                           "{" STATUS ",\"prs_Birthdate\":\"2010-06-16\","
                           "\"vic_AgeWhenTrafficked\":16}",
                           &err),
                     1);
    assert_string_equal(message_of(&err, "vic_AgeWhenTrafficked"),
                        "vic_AgeWhenTrafficked is greater than the person's age (15)");
    amp_err_clear(&err);
}

static void test_lookup(void **state)
{
    (void)state;
    expect_case_ok("\"amp_OwnerOrganisation\":\"fundacion-renacer\"");
    expect_case_error("\"amp_OwnerOrganisation\":\"fundación renacer\"", "amp_OwnerOrganisation",
                      "lookup");
    expect_case_error("\"amp_OwnerOrganisation\":7", "amp_OwnerOrganisation", "type");
}

static const char *seen_target;
static bool only_known(void *arg, const char *target, const char *id)
{
    (void)arg;
    seen_target = target;
    return strcmp(id, "known") == 0;
}

static void test_lookup_callback(void **state)
{
    (void)state;
    amp_err err = {0};
    validate_ctx v = ctx_en();
    v.lookup_exists = only_known;
    assert_int_equal(
        check_ctx("case", "{" STATUS ",\"amp_OwnerOrganisation\":\"known\"}", &v, &err), 0);
    assert_string_equal(seen_target, "organisation");
    assert_int_equal(
        check_ctx("case", "{" STATUS ",\"amp_OwnerOrganisation\":\"unknown\"}", &v, &err), 1);
    assert_true(tu_has_field_error(&err, "amp_OwnerOrganisation", "lookup"));
    assert_string_equal(message_of(&err, "amp_OwnerOrganisation"),
                        "amp_OwnerOrganisation: no organisation has this identifier");
    amp_err_clear(&err);
    assert_int_equal(check_ctx("case", "{" STATUS ",\"cas_CaseOwner\":\"known\"}", &v, &err), 0);
    assert_string_equal(seen_target, "user");
}

static void test_several_errors(void **state)
{
    (void)state;
    amp_err err = {0};
    int n = check("case",
                  "{\"prs_Gender\":\"Female\",\"prs_Nickname\":\"x\",\"vic_AgeWhenTrafficked\":500,"
                  "\"prs_Birthdate\":\"2026-02-30\",\"cas_Status\":\"Closed\"}",
                  &err);
    assert_int_equal(n, 6);
    assert_true(tu_has_field_error(&err, "prs_Gender", "picklist"));
    assert_true(tu_has_field_error(&err, "prs_Nickname", "unknown_field"));
    assert_true(tu_has_field_error(&err, "vic_AgeWhenTrafficked", "max"));
    assert_true(tu_has_field_error(&err, "prs_Birthdate", "date"));
    assert_true(tu_has_field_error(&err, "vic_TraffickingStatus", "required"));
    assert_true(tu_has_field_error(&err, "cas_ReasonForCaseClosure", "required_if"));
    /* the count returned is of this call only: it appends to existing fields */
    n = check("case", "{\"prs_Gender\":\"Female\"}", &err);
    assert_int_equal(n, 2);
    assert_int_equal(json_array_size(err.fields), 8);
    amp_err_clear(&err);
}

static void test_messages_languages(void **state)
{
    (void)state;
    static const char *const langs[] = {"es", "fr", "uk"};
    static const char *const rules[] = {
        "unknown_field", "read_only",  "required",         "required_if",
        "applies_if",    "type",       "picklist",         "duplicate",
        "max_items",     "max_length", "min_length",       "control_characters",
        "date",          "not_future", "not_before_birth", "min",
        "max",           "integer",    "country",          "language",
        "phone",         "email",      "lookup",           "age_consistency"};
    for (size_t r = 0; r < sizeof rules / sizeof *rules; r++) {
        const char *en = validate_message("en", rules[r]);
        assert_non_null(strstr(en, "{f}"));
        assert_ptr_equal(validate_message(NULL, rules[r]), en);
        assert_ptr_equal(validate_message("de", rules[r]), en);
        for (size_t l = 0; l < 3; l++) {
            const char *m = validate_message(langs[l], rules[r]);
            assert_string_not_equal(m, en);
            assert_non_null(strstr(m, "{f}"));
        }
    }
    assert_string_equal(validate_message("en", "no_such_rule"), "{f} is invalid");

    /* rendered messages: in each language, different from English, with the field name */
    const char *doc = "{" STATUS ",\"prs_Gender\":\"Female\",\"vic_AgeWhenTrafficked\":121}";
    amp_err en_err = {0};
    assert_int_equal(check("case", doc, &en_err), 2);
    for (size_t l = 0; l < 3; l++) {
        amp_err err = {0};
        validate_ctx v = ctx_en();
        v.lang = langs[l];
        assert_int_equal(check_ctx("case", doc, &v, &err), 2);
        const char *fields[] = {"prs_Gender", "vic_AgeWhenTrafficked"};
        for (int k = 0; k < 2; k++) {
            const char *m = message_of(&err, fields[k]);
            assert_non_null(m);
            assert_non_null(strstr(m, fields[k]));
            assert_string_not_equal(m, message_of(&en_err, fields[k]));
        }
        assert_non_null(strstr(message_of(&err, "prs_Gender"), "Female"));
        assert_non_null(strstr(message_of(&err, "vic_AgeWhenTrafficked"), "120"));
        amp_err_clear(&err);
    }
    amp_err_clear(&en_err);

    amp_err err = {0};
    validate_ctx v = ctx_en();
    v.lang = "es";
    assert_int_equal(check_ctx("case", "{}", &v, &err), 1);
    assert_string_equal(message_of(&err, "vic_TraffickingStatus"),
                        "vic_TraffickingStatus es obligatorio");
    amp_err_clear(&err);
    v.lang = "uk";
    assert_int_equal(check_ctx("case", "{}", &v, &err), 1);
    assert_string_equal(message_of(&err, "vic_TraffickingStatus"),
                        "vic_TraffickingStatus є обов'язковим");
    amp_err_clear(&err);
}

static void test_nulls_are_absent(void **state)
{
    (void)state;
    amp_err err = {0};
    /* a null required field is missing */
    assert_int_equal(check("case", "{\"vic_TraffickingStatus\":null}", &err), 1);
    assert_true(tu_has_field_error(&err, "vic_TraffickingStatus", "required"));
    amp_err_clear(&err);
    /* null optional fields of any type are not checked */
    expect_case_ok("\"prs_Gender\":null,\"prs_Citizenship\":null,\"vic_AgeWhenTrafficked\":null,"
                   "\"prs_Deceased\":null,\"prs_Birthdate\":null,\"prs_MobilePhone\":null");
    /* a null condition field does not trigger required_if */
    expect_case_ok("\"cas_Status\":null");
}

static void test_ignore_list(void **state)
{
    (void)state;
    amp_err err = {0};
    validate_ctx v = ctx_en();
    static const char *const ignore[] = {"id", "version", NULL};
    json_t *doc = tu_json("{" STATUS ",\"id\":\"x\",\"version\":3,\"reference\":\"EC\"}");
    assert_int_equal(validate_record(tu_cat, "case", doc, &v, ignore, &err), 1);
    assert_true(tu_has_field_error(&err, "reference", "unknown_field"));
    amp_err_clear(&err);
    assert_int_equal(validate_record(tu_cat, "case", doc, &v, NULL, &err), 3);
    assert_true(tu_has_field_error(&err, "id", "unknown_field"));
    assert_true(tu_has_field_error(&err, "version", "unknown_field"));
    amp_err_clear(&err);
    json_decref(doc);
}

static void test_not_an_object(void **state)
{
    (void)state;
    amp_err err = {0};
    validate_ctx v = ctx_en();
    json_t *doc = json_array();
    assert_int_equal(validate_record(tu_cat, "case", doc, &v, NULL, &err), 1);
    assert_true(tu_has_field_error(&err, "", "object"));
    json_decref(doc);
    amp_err_clear(&err);
}

static void test_other_entities(void **state)
{
    (void)state;
    amp_err err = {0};
    assert_int_equal(check("organisation",
                           "{\"org_Name\":\"Fundación Renacer\",\"org_Type\":\"NGO\","
                           "\"org_ShippingCountry\":\"EC\",\"org_Phone\":\"+59322345678\"}",
                           &err),
                     0);
    assert_int_equal(check("organisation", "{\"org_Type\":\"Bank\"}", &err), 2);
    assert_true(tu_has_field_error(&err, "org_Name", "required"));
    assert_true(tu_has_field_error(&err, "org_Type", "picklist"));
    amp_err_clear(&err);
    /* perpetrators have prs_ fields but no victim fields */
    assert_int_equal(check("perpetrator",
                           "{\"prs_Gender\":\"Masculine\",\"per_RoleInProcess\":[\"Recruiter"
                           "OrIntermediary\"],\"vic_TraffickingStatus\":\"x\"}",
                           &err),
                     1);
    assert_true(tu_has_field_error(&err, "vic_TraffickingStatus", "unknown_field"));
    amp_err_clear(&err);
    /* events: bounds of the extension field */
    assert_int_equal(check("event", "{\"hte_Type\":\"Transit\",\"amp_EventSequence\":0}", &err), 1);
    assert_true(tu_has_field_error(&err, "amp_EventSequence", "min"));
    amp_err_clear(&err);
}

/* min_length and default-driven rules need a catalogue that uses them. */
static void test_custom_catalogue_rules(void **state)
{
    (void)state;
    char err[256];
    json_t *root =
        tu_json("{\"entities\":[{\"name\":\"thing\",\"sections\":[\"s\"]}],"
                "\"fields\":["
                " {\"name\":\"code\",\"section\":\"s\",\"type\":\"text\",\"min_length\":3,\"max_"
                "length\":5},"
                " {\"name\":\"kind\",\"section\":\"s\",\"type\":\"picklist\",\"required\":true,"
                "  \"default\":\"A\",\"values\":[{\"name\":\"A\"},{\"name\":\"B\"}]},"
                " {\"name\":\"tags\",\"section\":\"s\",\"type\":\"language\",\"multiple\":true,"
                "  \"max_items\":2}],"
                "\"codelists\":{\"country\":[],\"language\":[{\"code\":\"es\",\"alpha3\":\"spa\"},"
                "  {\"code\":\"en\",\"alpha3\":\"eng\"},{\"code\":\"fr\",\"alpha3\":\"fra\"}]}}");
    catalogue *c = catalogue_load(root, err, sizeof err);
    json_decref(root);
    assert_non_null(c);
    validate_ctx v = ctx_en();
    amp_err e = {0};
    json_t *doc = tu_json("{\"code\":\"ab\"}");
    /* a required field with a default is not reported missing */
    assert_int_equal(validate_record(c, "thing", doc, &v, NULL, &e), 1);
    assert_true(tu_has_field_error(&e, "code", "min_length"));
    assert_string_equal(json_string_value(json_object_get(json_array_get(e.fields, 0), "message")),
                        "code is shorter than 3 characters");
    amp_err_clear(&e);
    json_decref(doc);
    doc = tu_json("{\"code\":\"ЖЖЖ\",\"tags\":[\"es\",\"eng\"]}");
    assert_int_equal(validate_record(c, "thing", doc, &v, NULL, &e), 0);
    json_decref(doc);
    doc = tu_json("{\"code\":\"abcdef\",\"tags\":[\"es\",\"eng\",\"fra\"]}");
    assert_int_equal(validate_record(c, "thing", doc, &v, NULL, &e), 2);
    assert_true(tu_has_field_error(&e, "code", "max_length"));
    assert_true(tu_has_field_error(&e, "tags", "max_items"));
    amp_err_clear(&e);
    json_decref(doc);
    catalogue_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_e164),
        cmocka_unit_test(test_email),
        cmocka_unit_test(test_identifier),
        cmocka_unit_test(test_utf8_length),
        cmocka_unit_test(test_minimal_valid),
        cmocka_unit_test(test_unknown_field),
        cmocka_unit_test(test_picklist),
        cmocka_unit_test(test_multiselect),
        cmocka_unit_test(test_country),
        cmocka_unit_test(test_language),
        cmocka_unit_test(test_phone_email),
        cmocka_unit_test(test_text_length_counts_characters),
        cmocka_unit_test(test_control_characters),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_checkbox),
        cmocka_unit_test(test_required),
        cmocka_unit_test(test_required_if),
        cmocka_unit_test(test_applies_if),
        cmocka_unit_test(test_not_future),
        cmocka_unit_test(test_not_before_birth),
        cmocka_unit_test(test_age_consistency),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_lookup_callback),
        cmocka_unit_test(test_several_errors),
        cmocka_unit_test(test_messages_languages),
        cmocka_unit_test(test_nulls_are_absent),
        cmocka_unit_test(test_ignore_list),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_other_entities),
        cmocka_unit_test(test_custom_catalogue_rules),
    };
    return cmocka_run_group_tests(tests, tu_catalogue_setup, tu_catalogue_teardown);
}
