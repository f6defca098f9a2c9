/** Types of bootstrap.mjs for the tests that import it. */
export declare const ROOT: string;
export declare function which(cmd: string, path?: string): string | undefined;
export declare function ensureAptTool(program: string, pkg?: string): void;
export declare function ensureTestTools(): void;
