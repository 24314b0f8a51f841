export interface DemoRepo {
  dir: string;
  tags: string[];
  commits: Record<string, string>;
}
export function buildDemoRepo(dir: string, options?: { releases?: string[] }): Promise<DemoRepo>;
