/*
 * cidr.h — client addresses and CIDR ranges (IPv4 and IPv6), parsed
 * strictly; the one address type of latchkey.
 *
 * Design and invariants:
 *  - lk_addr holds a family and 16 bytes. An IPv4 address uses the first 4
 *    bytes (the rest are zero); an IPv6 address all 16. Parsing keeps what
 *    was written: "::ffff:1.2.3.4" stays IPv6 (IPv4-mapped); lk_addr_unmap
 *    turns it into the IPv4 address, and lk_cidr_contains does that itself,
 *    so a mapped peer of a dual-stack socket matches IPv4 ranges.
 *  - Parsing is strict and never reads past `len`: IPv4 is exactly four
 *    decimal octets 0..255 with no leading zero ("010.0.0.1" is refused:
 *    inet_aton would read it as octal 8, other parsers as decimal 10, so a
 *    range written that way means different things to different tools);
 *    IPv6 is RFC 4291 text (inet_pton's rules: hex groups of 1..4 digits,
 *    one "::", an IPv4 tail), no zone ("%eth0"), no brackets, no port.
 *    A prefix is 0..32 / 0..128 in decimal without a sign or a leading
 *    zero. No white space anywhere; input longer than LK_CIDR_TEXT_MAX
 *    bytes is refused before it is looked at.
 *  - A CIDR with host bits set ("10.1.2.3/8") is accepted, normalised to
 *    its network ("10.0.0.0/8") and reported through *normalised, so the
 *    API can say so. A bare address is a /32 or /128.
 *  - lk_cidr_list holds at most LK_CIDR_LIST_MAX ranges, no two equal
 *    after normalisation.
 *  - Errors are LK_EVALIDATION on the caller's lk_err with its field; a
 *    message quotes at most a short, sanitised piece of the input.
 *
 * Pure functions on caller memory: no allocation, no globals, thread-safe.
 * Used by the server (allowed_cidrs, --trusted-proxies, clientaddr.c) and
 * the CLI (--allow-cidr checks before sending).
 */
#ifndef LK_CIDR_H
#define LK_CIDR_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { LK_ADDR_V4 = 4, LK_ADDR_V6 = 6 };

#define LK_ADDR_BYTES 16
#define LK_ADDR_TEXT_SIZE 46                     /* INET6_ADDRSTRLEN */
#define LK_CIDR_TEXT_SIZE (LK_ADDR_TEXT_SIZE + 4) /* + "/128" */
#define LK_CIDR_TEXT_MAX 64 /* longest input looked at (the longest valid is 49) */
#define LK_CIDR_LIST_MAX 32 /* allowed_cidrs and --trusted-proxies */

typedef struct lk_addr {
    uint8_t family;              /* LK_ADDR_V4 or LK_ADDR_V6; 0 = none */
    uint8_t b[LK_ADDR_BYTES];    /* network order; IPv4 in b[0..3], rest zero */
} lk_addr;

typedef struct lk_cidr {
    lk_addr net;    /* host bits always zero */
    uint8_t prefix; /* 0..32 or 0..128 */
} lk_cidr;

typedef struct lk_cidr_list {
    unsigned n;                      /* 0..LK_CIDR_LIST_MAX */
    lk_cidr item[LK_CIDR_LIST_MAX];
} lk_cidr_list;

/* An address: "203.0.113.5", "2001:db8::1", "::ffff:1.2.3.4". 0 or
 * LK_EVALIDATION (e may be NULL). *out is zeroed on failure. */
int lk_addr_parse(const char *s, size_t len, lk_addr *out, const char *field, lk_err *e);
/* Canonical text (RFC 5952 for IPv6: lower case, longest zero run "::"). */
void lk_addr_format(const lk_addr *a, char out[LK_ADDR_TEXT_SIZE]);
/* *out = the IPv4 address when a is IPv4-mapped IPv6, else a itself. */
void lk_addr_unmap(const lk_addr *a, lk_addr *out);
bool lk_addr_equal(const lk_addr *a, const lk_addr *b);
/* From / to a struct sockaddr (AF_INET, AF_INET6); 0, or LK_EVALIDATION for
 * another family. Declared with void * so this header needs no socket
 * headers. */
int lk_addr_from_sockaddr(const void *sa, lk_addr *out);

/* "10.0.0.0/8", "2001:db8::/32", or a bare address. *normalised (may be
 * NULL) is set when host bits were cleared. */
int lk_cidr_parse(const char *s, size_t len, lk_cidr *out, bool *normalised, const char *field,
                  lk_err *e);
/* Canonical text: the network and always the prefix ("10.0.0.0/8"). */
void lk_cidr_format(const lk_cidr *c, char out[LK_CIDR_TEXT_SIZE]);
/* Is a (unmapped first; an IPv4 address is also tried as ::ffff:a.b.c.d
 * against an IPv6 range) inside c? */
bool lk_cidr_contains(const lk_cidr *c, const lk_addr *a);
bool lk_cidr_equal(const lk_cidr *a, const lk_cidr *b);

void lk_cidr_list_init(lk_cidr_list *l);
/* Append c; LK_EVALIDATION for the (LK_CIDR_LIST_MAX+1)th or a duplicate. */
int lk_cidr_list_add(lk_cidr_list *l, const lk_cidr *c, const char *field, lk_err *e);
/* Parse "CIDR[,CIDR…]" (white space around each item allowed; an empty
 * string is an empty list; an empty item is an error) into l (initialised
 * here). *normalised (may be NULL) counts the items whose host bits were
 * cleared. On failure l is left empty. */
int lk_cidr_list_parse(const char *s, size_t len, lk_cidr_list *l, unsigned *normalised,
                       const char *field, lk_err *e);
/* Is a inside any range of l? false for an empty list. */
bool lk_cidr_list_contains(const lk_cidr_list *l, const lk_addr *a);

#endif
