export { createNoticeSender, DEFAULT_NOTICE_TIMEOUT_MS, DEFAULT_TELEPORT_COMMAND, type NoticeSenderDeps } from './notice-sender.js';
