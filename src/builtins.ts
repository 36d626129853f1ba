/**
 * Node built-ins, loaded on first use. An ES `import` of a built-in costs milliseconds at
 * startup; `process.getBuiltinModule` costs nothing until called. Modules on the path that runs
 * while telemetry is off use these instead of top-level imports.
 */
export const fs = () => process.getBuiltinModule('node:fs');
export const fsp = () => process.getBuiltinModule('node:fs/promises');
export const path = () => process.getBuiltinModule('node:path');
export const crypto = () => process.getBuiltinModule('node:crypto');
export const os = () => process.getBuiltinModule('node:os');
export const nodeModule = () => process.getBuiltinModule('node:module');
