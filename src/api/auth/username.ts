/**
 * What a user name may be, for the API and the CLI alike: what an admin types, nothing that could
 * be mistaken for markup or a path. Its length (1-64) is checked beside it.
 */

export const USERNAME_PATTERN = /^[A-Za-z0-9._@-]+$/;
export const MAX_USERNAME_LENGTH = 64;
