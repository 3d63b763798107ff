import { Logger } from '@aws-lambda-powertools/logger';

/** Structured JSON logs; the service name and level come from POWERTOOLS_* variables set by the stack. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'booking-engine' });
