export { FileStore, type FileStoreDeps } from './file-store.js';
export { formatProblem } from './format-problem.js';
export { locateFields } from './field-position.js';
export { loadManifestDir, type ManifestDirLoad } from './manifest-loader.js';
export { parseManifestText, type AcceptedDocument, type IgnoredDocument, type RejectedDocument } from './manifest-parse.js';
export { writeFileAtomic, removeStaleTempFiles, type AtomicWriteHooks } from './atomic-write.js';
export { patchManifestFile, patchManifestText } from './manifest-patch.js';
