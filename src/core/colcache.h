/* colcache.h — an in-memory, dictionary-encoded column cache of case dimensions.
 *
 * Statistics over a million cases cannot parse a million documents per query.
 * The cache holds, per case, the non-identifying facts the reports group and
 * filter by, each column encoded as small integer codes into a per-column
 * dictionary (or a bit mask for multi-select picklists).  It is built by one
 * scan of the store and kept in step with writes: before each use,
 * colcache_sync asks the store for the cases written since its last change mark
 * and re-reads only those.
 *
 * Only non-identity fields are read (see colcache_age_at_registration for the
 * one derived value).  Thread-safety: colcache_sync and readers are serialised
 * by colcache_lock_read/colcache_unlock; the cache is shared by all threads. */
#ifndef AMPARO_COLCACHE_H
#define AMPARO_COLCACHE_H

#include "core/catalogue.h"
#include "core/result.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/** The columns.  SINGLE columns hold one code per case (0 = missing), MASK
 *  columns a bit per picklist value, MULTI columns up to CC_MULTI_MAX codes. */
typedef enum {
    CC_YEAR,         /* registration year "2025" */
    CC_MONTH,        /* registration month "01".."12" */
    CC_GENDER,       /* prs_Gender */
    CC_CITIZENSHIP,  /* prs_Citizenship (multi) */
    CC_COUNTRY_EXPL, /* hte_Country of Exploitation events (multi) */
    CC_ORIGIN,       /* hte_Country of Recruitment events (multi) */
    CC_TRANSIT,      /* hte_Country of Transit events (multi) */
    CC_REGION_EXPL,  /* hte_State of the first Exploitation event */
    CC_BORDER,       /* "Internal" | "CrossBorder" (derived from the route) */
    CC_EXPLOITATION, /* vic_TypeOfExploitation (mask) */
    CC_CONTROL,      /* vic_MethodsOfControl (mask) */
    CC_INDUSTRY,     /* vic_ForcedLabourIndustry */
    CC_SEXTYPE,      /* vic_TypeOfSexExploitation (mask) */
    CC_RECRUITMENT,  /* vic_MethodOfRecruitment (mask) */
    CC_RELATION,     /* vic_RelationshipToTrafficker */
    CC_TSTATUS,      /* vic_TraffickingStatus */
    CC_DECISION_ORG, /* vic_TraffickingStatusDecisionMakingOrg */
    CC_CASE_STATUS,  /* cas_Status */
    CC_ORG,          /* owning organisation id */
    CC_REG_COUNTRY,  /* amp_RegistrationCountry */
    CC_NCOLS
} cc_col;

typedef enum { CCK_SINGLE, CCK_MASK, CCK_MULTI } cc_kind;

#define CC_MULTI_MAX 4
#define CC_AGE_UNKNOWN (-1)

/* Per-case flags. */
enum {
    CCF_LIVE = 1,          /* the row holds a case (not a hole left by a deletion) */
    CCF_STATS_CONSENT = 2, /* consent_allows(doc, CONSENT_STATISTICS, day of the build) */
};

typedef struct colcache colcache;

/** A new, empty cache over a store and catalogue (borrowed). NULL when out of memory. */
colcache *colcache_new(store *s, const catalogue *cat);
void colcache_free(colcache *cc);

/** Brings the cache up to date with the store (a full build the first time or
 *  when the day changed — consent of children depends on the date — else only
 *  the cases written since).  AMP_OK or AMP_EINTERNAL with err set.  Takes the
 *  write lock itself. */
amp_code colcache_sync(colcache *cc, amp_err *err);

/** Read lock for queries (many readers at once); release with colcache_unlock. */
void colcache_lock_read(colcache *cc);
void colcache_unlock(colcache *cc);

/* ---- reading (under the read lock) ------------------------------------------ */

/** Number of rows (some may not be CCF_LIVE). */
size_t colcache_rows(const colcache *cc);
uint8_t colcache_flags(const colcache *cc, size_t row);
/** The row of the case with store id case_id (store_row.id), or -1 when the
 *  cache holds no such case (record scans use it to find a record's case). */
long colcache_row_of_case(const colcache *cc, int64_t case_id);
/** The registration date as YYYYMMDD, 0 when unknown. */
int32_t colcache_regdate(const colcache *cc, size_t row);
/** Age in whole years at registration / when trafficked, or CC_AGE_UNKNOWN. */
int16_t colcache_age_registration(const colcache *cc, size_t row);
int16_t colcache_age_exploitation(const colcache *cc, size_t row);

cc_kind colcache_kind(cc_col col);
/** The catalogue field a column comes from ("" for derived columns). */
const char *colcache_field(cc_col col);
/** The dictionary: values by code (code 1 = index 0). */
size_t colcache_dict_size(const colcache *cc, cc_col col);
const char *colcache_dict_value(const colcache *cc, cc_col col, uint16_t code);
/** The code of value, 0 when it is not in the dictionary. */
uint16_t colcache_dict_code(const colcache *cc, cc_col col, const char *value);

/** SINGLE: the row's code (0 = missing). */
uint16_t colcache_single(const colcache *cc, cc_col col, size_t row);
/** MASK: bit (code-1) set for each value the row holds. */
uint64_t colcache_mask(const colcache *cc, cc_col col, size_t row);
/** MULTI: the row's codes (up to CC_MULTI_MAX, 0-terminated when fewer). */
const uint16_t *colcache_multi(const colcache *cc, cc_col col, size_t row);

/** Direct access to the columns for tight loops (valid under the read lock,
 *  until the next sync): arrays of `rows` entries; NULL for the other kinds. */
typedef struct {
    size_t rows;
    const uint8_t *flags;
    const int32_t *regdate;
    const int16_t *age_reg, *age_exp;
    const uint16_t *single[CC_NCOLS];
    const uint64_t *mask[CC_NCOLS];
    const uint16_t (*multi[CC_NCOLS])[CC_MULTI_MAX];
} colcache_view;
void colcache_get_view(const colcache *cc, colcache_view *v);

/** Statistics of the last sync, for diagnostics. */
typedef struct {
    size_t rows, live;
    int64_t watermark;
    int64_t last_sync_us;   /* duration of the last sync */
    size_t last_sync_cases; /* cases read by it */
    bool last_was_full;
} colcache_stats;
void colcache_get_stats(colcache *cc, colcache_stats *out);

/* ---- helpers also used by the exports --------------------------------------- */

/** Whole years at amp_RegistrationDate: amp_AgeAtRegistration when the case has
 *  it (a clear field derived by the core), else computed from prs_Birthdate —
 *  the one place that reads an identity field, to be switched off once every
 *  case carries amp_AgeAtRegistration.  CC_AGE_UNKNOWN when neither is known.
 *  doc: the case document. */
int colcache_age_at_registration(const json_t *doc);

/** Age in whole years on `on` (YYYY-MM-DD) of someone born on `birth`; -1 when
 *  either date is malformed or birth is after on. */
int colcache_age_between(const char *birth, const char *on);

#endif
