/** Value shapes shared by the sender's checks and the allow-list. */
export const SERVICE_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;
export const VERSION_PATTERN = /^\d{1,6}\.\d{1,6}\.\d{1,6}(?:-[0-9A-Za-z.]{1,16})?$/;
