/*
 * migrate_data.h — `latchkeyd migrate-data --from URL --to URL [--force]`:
 * copy every row (users with password hashes, orgs, members, projects,
 * environments, billing, access keys with their token hashes) from one store
 * to another through the store interface, in one transaction on the target.
 * Refuses a non-empty target unless --force.
 */
#ifndef LK_MIGRATE_DATA_H
#define LK_MIGRATE_DATA_H

/* argv[0] is "migrate-data". Returns the process exit status. */
int lk_migrate_data_main(int argc, char **argv);

#endif
