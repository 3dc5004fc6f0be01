/* demo.h — a generator of realistic synthetic cases for demos and benchmarks.
 *
 * The generator is deterministic for a given seed: the same seed yields the same
 * organisations and the same sequence of cases.  Everything it produces is fiction;
 * names are drawn from per-nationality lists so that a demo looks like the data an
 * office in Ecuador, Ukraine or Moldova would hold.
 *
 * Documents follow the field catalogue (schema/catalogue.json): flat objects whose
 * keys are HTCDS field names (prs_, vic_, cas_, con_) and amp_ extensions.  A case
 * document may carry child arrays "events", "perpetrators", "comments" and
 * "support_plans", each an array of flat documents of that entity.
 */
#ifndef AMPARO_DEMO_H
#define AMPARO_DEMO_H

#include <jansson.h>
#include <stdint.h>

typedef struct demo_gen demo_gen;

/** Creates a generator.  `today` ("YYYY-MM-DD") bounds every date it makes
 *  (no date after it).  Returns NULL only when out of memory. */
demo_gen *demo_gen_new(uint64_t seed, const char *today);

/** The organisations the demo cases belong to: a new JSON array (caller owns it) of
 *  objects with "id" (a short slug such as "ec-fundacion-alas"), "org_Name",
 *  "org_Type", "org_ShippingCountry", "org_ShippingCity", "org_Phone". */
json_t *demo_gen_organisations(demo_gen *g);

/** The next synthetic case: a new JSON object (caller owns it). */
json_t *demo_gen_case(demo_gen *g);

/** Frees the generator. NULL is allowed. */
void demo_gen_free(demo_gen *g);

#endif
