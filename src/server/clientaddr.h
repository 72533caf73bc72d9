/*
 * clientaddr.h — who the client is: the TCP peer, or, behind trusted
 * proxies, the address they say they forwarded for; and the key a client
 * address is throttled under.
 *
 * Rules (the contract's --trusted-proxies):
 *  - When the peer is not inside a trusted range (or there are none),
 *    X-Forwarded-For is ignored: the client is the peer.
 *  - Otherwise X-Forwarded-For is read from the right (several header
 *    lines count as one list, joined in the order received). Each element
 *    that is a trusted proxy is stepped over; the first one that is not is
 *    the client. Empty elements and white space around elements are
 *    skipped.
 *  - An element may carry a port: "1.2.3.4:80", "[2001:db8::1]:443", or
 *    brackets alone "[2001:db8::1]"; the port is dropped (it identifies a
 *    connection, not a client). A bare IPv6 address has no port.
 *  - Garbage stops the walk ("unknown", "_hidden", a zone "%eth0", a bad
 *    port, anything lk_addr_parse refuses): the client is then the last
 *    good hop read, i.e. the nearest trusted proxy to the garbage, or the
 *    peer if the right-most element is garbage. Nothing left of garbage
 *    was appended by anyone we trust, so it is never believed.
 *  - Bounds: at most LK_XFF_HOPS_MAX elements and the last LK_XFF_SCAN_MAX
 *    bytes are read (the right end is the part our proxies wrote). Running
 *    out of either is treated like garbage at that point.
 *  - Every result is unmapped (an IPv4-mapped IPv6 address becomes IPv4).
 *
 * Pure functions on caller memory, thread-safe; no HTTP types here (the
 * handlers pass the header values as plain strings).
 */
#ifndef LK_CLIENTADDR_H
#define LK_CLIENTADDR_H

#include "cidr.h"

#include <stddef.h>

#define LK_XFF_HOPS_MAX 64     /* elements read from the right */
#define LK_XFF_SCAN_MAX 4096   /* bytes read from the right, over all lines */
#define LK_XFF_ELEM_MAX 64     /* one element: "[v6]:65535" is at most 55 */
#define LK_THROTTLE_KEY_SIZE (LK_CIDR_TEXT_SIZE)
#define LK_THROTTLE_V6_PREFIX 64 /* IPv6 clients are counted per /64 */

typedef enum lk_clientaddr_source {
    LK_CLIENTADDR_PEER = 0,  /* the TCP peer (untrusted, or no usable header) */
    LK_CLIENTADDR_FORWARDED, /* an address from X-Forwarded-For */
} lk_clientaddr_source;

/* The client address of a request into *out. peer: the TCP peer. trusted:
 * may be NULL (no trusted proxies). xff[i] / xff_len[i]: the values of the
 * n X-Forwarded-For lines in the order received (n may be 0). */
lk_clientaddr_source lk_clientaddr_resolve(const lk_addr *peer, const lk_cidr_list *trusted,
                                           const char *const xff[], const size_t xff_len[],
                                           size_t n, lk_addr *out);

/* The throttle key of a: "203.0.113.5" (IPv4 /32, IPv4-mapped as IPv4) or
 * "2001:db8:1:2::/64" (IPv6 per /64). "" for an address with no family. */
void lk_clientaddr_throttle_key(const lk_addr *a, char out[LK_THROTTLE_KEY_SIZE]);

#endif
