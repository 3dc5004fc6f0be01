/* consent.c — consent checks before sharing (see consent.h). */
#include "core/consent.h"
#include "core/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const purpose_names[] = {
    [CONSENT_REGISTRATION] = "Registration",
    [CONSENT_REFERRAL] = "Referral",
    [CONSENT_CROSS_BORDER] = "CrossBorder",
    [CONSENT_STATISTICS] = "Statistics",
};

const char *consent_purpose_name(consent_purpose purpose)
{
    return (unsigned)purpose <= CONSENT_STATISTICS ? purpose_names[purpose] : "?";
}

/* Messages: [rule][lang] with en, es, fr, uk. */
enum { M_REQUIRED, M_WITHDRAWN, M_SCOPE, M_GUARDIAN, M_COUNT };
static const char *const messages[M_COUNT][4] = {
    [M_REQUIRED] = {"no consent is recorded for this case", "no consta consentimiento en este caso",
                    "aucun consentement n'est enregistré pour ce dossier",
                    "для цієї справи не зафіксовано згоди"},
    [M_WITHDRAWN] = {"the person has withdrawn their consent",
                     "la persona ha retirado su consentimiento",
                     "la personne a retiré son consentement", "особа відкликала свою згоду"},
    [M_SCOPE] = {"the consent does not cover: ", "el consentimiento no cubre: ",
                 "le consentement ne couvre pas : ", "згода не охоплює: "},
    [M_GUARDIAN] = {"a child's case needs guardian consent or a recorded best-interest decision",
                    "el caso de un niño requiere el consentimiento del tutor o una determinación "
                    "del interés superior registrada",
                    "le dossier d'un enfant exige le consentement du tuteur ou une décision "
                    "d'intérêt supérieur enregistrée",
                    "справа дитини потребує згоди опікуна або зафіксованого рішення щодо "
                    "найкращих інтересів"},
};

static int lang_index(const char *lang)
{
    static const char *const langs[] = {"en", "es", "fr", "uk"};
    for (int i = 0; lang && i < 4; i++) {
        if (strncmp(lang, langs[i], 2) == 0)
            return i;
    }
    return 0;
}

static bool flag(const json_t *doc, const char *name)
{
    return json_is_true(json_object_get(doc, name));
}

static bool has_scope(const json_t *doc, const char *scope)
{
    const json_t *arr = json_object_get(doc, "amp_ConsentScope");
    size_t i;
    const json_t *v;
    json_array_foreach (arr, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), scope) == 0)
            return true;
    }
    return false;
}

bool consent_is_child(const json_t *case_doc, const char *today)
{
    const json_t *b = json_object_get(case_doc, "prs_Birthdate");
    if (json_is_string(b)) {
        int age = validate_years_between(json_string_value(b), today);
        if (age >= 0)
            return age < 18;
    }
    /* the birth date is sealed at rest: the age the server derived at registration,
     * plus the whole years since, is a lower bound of the age today */
    const json_t *ar = json_object_get(case_doc, "amp_AgeAtRegistration");
    const json_t *rd = json_object_get(case_doc, "amp_RegistrationDate");
    if (json_is_integer(ar) && json_is_string(rd)) {
        int since = validate_years_between(json_string_value(rd), today);
        if (since >= 0)
            return json_integer_value(ar) + since < 18;
    }
    const json_t *a = json_object_get(case_doc, "vic_AgeWhenTrafficked");
    return json_is_number(a) && json_number_value(a) < 18;
}

static amp_code check(const json_t *doc, consent_purpose purpose, const char *today,
                      const char *lang, amp_err *err)
{
    int li = lang_index(lang);
    bool ok = true;
    if (!flag(doc, "con_Consent")) {
        ok = false;
        if (err)
            amp_err_field(err, "con_Consent", "consent_required", messages[M_REQUIRED][li]);
    }
    if (flag(doc, "amp_ConsentWithdrawn")) {
        ok = false;
        if (err)
            amp_err_field(err, "amp_ConsentWithdrawn", "consent_withdrawn",
                          messages[M_WITHDRAWN][li]);
    }
    consent_purpose needed[2] = {purpose, purpose};
    int nneeded = 1;
    if (purpose == CONSENT_CROSS_BORDER) {
        needed[0] = CONSENT_REFERRAL;
        nneeded = 2;
    }
    for (int i = 0; i < nneeded; i++) {
        if (!has_scope(doc, purpose_names[needed[i]])) {
            ok = false;
            if (err) {
                char msg[200];
                snprintf(msg, sizeof msg, "%s%s", messages[M_SCOPE][li], purpose_names[needed[i]]);
                amp_err_field(err, "amp_ConsentScope", "consent_scope", msg);
            }
        }
    }
    if ((purpose == CONSENT_REFERRAL || purpose == CONSENT_CROSS_BORDER) &&
        consent_is_child(doc, today) && !flag(doc, "amp_GuardianConsent") &&
        !json_is_string(json_object_get(doc, "amp_BestInterestDecisionDate"))) {
        ok = false;
        if (err)
            amp_err_field(err, "amp_GuardianConsent", "guardian_consent_required",
                          messages[M_GUARDIAN][li]);
    }
    if (ok)
        return AMP_OK;
    return err ? amp_err_set(err, AMP_EINVALID, "the consent recorded does not allow %s",
                             purpose_names[purpose])
               : AMP_EINVALID;
}

amp_code consent_check(const json_t *case_doc, consent_purpose purpose, const char *today,
                       const char *lang, amp_err *err)
{
    return check(case_doc, purpose, today, lang, err);
}

bool consent_allows(const json_t *case_doc, consent_purpose purpose, const char *today)
{
    return check(case_doc, purpose, today, "en", NULL) == AMP_OK;
}
