/* consent.h — what the person agreed to (HTCDS con_ plus amp_ consent fields),
 * checked before every sharing feature: referrals, cross-border referrals,
 * statistics and exports.
 *
 * A case's consent is: con_Consent (given), amp_ConsentScope (Registration,
 * Referral, Statistics, CrossBorder), amp_ConsentDate, amp_ConsentObtainedBy,
 * amp_ConsentWithdrawn (+ amp_ConsentWithdrawnDate).  For a child (under 18 by
 * prs_Birthdate today; without it, by amp_AgeAtRegistration plus the years since
 * registration, then by vic_AgeWhenTrafficked),
 * sharing also needs amp_GuardianConsent or a recorded best-interest decision
 * (amp_BestInterestDecisionDate). */
#ifndef AMPARO_CONSENT_H
#define AMPARO_CONSENT_H

#include "core/result.h"

#include <jansson.h>
#include <stdbool.h>

typedef enum {
    CONSENT_REGISTRATION,
    CONSENT_REFERRAL,     /* to another organisation in the country */
    CONSENT_CROSS_BORDER, /* to an organisation in another country (needs Referral too) */
    CONSENT_STATISTICS,   /* non-identifying data in figures and exports */
} consent_purpose;

/** The scope value of a purpose: "Referral"… */
const char *consent_purpose_name(consent_purpose purpose);

/** True when the case is a child's: under 18 on `today` (YYYY-MM-DD). */
bool consent_is_child(const json_t *case_doc, const char *today);

/** Checks that the case's consent allows `purpose` on `today`.  AMP_OK, or
 *  AMP_EINVALID with one field error per missing element (rule
 *  "consent_required", "consent_withdrawn", "consent_scope" or
 *  "guardian_consent_required"), messages in lang. */
amp_code consent_check(const json_t *case_doc, consent_purpose purpose, const char *today,
                       const char *lang, amp_err *err);

/** consent_check without the error: true when allowed. */
bool consent_allows(const json_t *case_doc, consent_purpose purpose, const char *today);

#endif
