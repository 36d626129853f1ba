/** Headcount's own version: the OTel scope version and the User-Agent. Kept in step with package.json by a test. */
export const VERSION = '0.1.0';
