/* uuid.h — time-ordered random identifiers (UUID version 7, RFC 9562). */
#ifndef AMPARO_UUID_H
#define AMPARO_UUID_H

#include <stdbool.h>

/** Writes a new UUIDv7 in canonical lowercase form into out[37]. */
void uuid_v7(char out[37]);

/** True when s is a canonical UUID (36 characters, lowercase or uppercase hex). */
bool uuid_valid(const char *s);

#endif
