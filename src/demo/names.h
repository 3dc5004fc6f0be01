/* names.h — per-nationality name lists for the demo generator (fiction only).
 *
 * Every list is a plain array of UTF-8 strings.  Parallel arrays (a Cyrillic
 * spelling, a female surname form, a patronymic's four forms) have the same length
 * as the array they shadow.  Used only by demo.c.
 */
#ifndef AMPARO_DEMO_NAMES_H
#define AMPARO_DEMO_NAMES_H

#include <stddef.h>

typedef struct demo_names {
    const char *const *given_f;     /* female given names (Latin script) */
    const char *const *given_m;     /* male given names */
    const char *const *given_f_cyr; /* parallel Cyrillic spellings, or NULL */
    const char *const *given_m_cyr;
    size_t n_given_f, n_given_m;
    const char *const *sur;     /* surnames: male or invariant form */
    const char *const *sur_f;   /* parallel female forms, or NULL when invariant */
    const char *const *sur_cyr; /* parallel Cyrillic spellings (invariant), or NULL */
    size_t n_sur;
    const char *const *pat_m; /* patronymics (male form), or NULL */
    const char *const *pat_f;
    const char *const *pat_m_cyr; /* parallel Cyrillic, or NULL */
    const char *const *pat_f_cyr;
    size_t n_pat;
    const char *const *mid_f; /* Vietnamese-style middle names, or NULL */
    const char *const *mid_m;
    size_t n_mid_f, n_mid_m;
} demo_names;

enum {
    DEMO_NAMES_ES, /* Spanish-speaking Latin America */
    DEMO_NAMES_UA, /* Ukrainian (Latin transliteration + Cyrillic) */
    DEMO_NAMES_BY, /* Belarusian (passport transliteration) */
    DEMO_NAMES_RU, /* Russian */
    DEMO_NAMES_RO, /* Romanian / Moldovan */
    DEMO_NAMES_VI, /* Vietnamese */
    DEMO_NAMES_NG, /* Nigerian (Edo, Igbo, Yoruba) */
    DEMO_NAMES_COUNT
};

extern const demo_names demo_name_lists[DEMO_NAMES_COUNT];

/* Indigenous surnames mixed into the Spanish list by country. */
extern const char *const demo_sur_kichwa[]; /* Ecuadorian Kichwa */
extern const size_t demo_n_sur_kichwa;
extern const char *const demo_sur_quechua[]; /* Peruvian/Bolivian Quechua and Aymara */
extern const size_t demo_n_sur_quechua;
extern const char *const demo_sur_maya[];
extern const size_t demo_n_sur_maya;

#endif
