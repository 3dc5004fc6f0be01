/* version.h — the program's version. */
#ifndef AMPARO_VERSION_H
#define AMPARO_VERSION_H
#define AMPARO_VERSION "0.1.0"
#endif
