/** The longest cursor we hand out or read: a DynamoDB page key, sealed, is a few hundred characters. */
export const MAX_CURSOR_LENGTH = 1024;
