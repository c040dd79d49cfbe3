// How the Scalar page at /swagger is set up: xgate's API and nothing else. The hosted-service
// parts (Ask AI, MCP, the developer tools with Share and Deploy, telemetry, web fonts) are off,
// so the page needs no internet and sends nothing to anyone but this server.

/** Scalar options; the embedded bundle reads them from the page's data-configuration. */
export const SCALAR_CONFIG = {
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: 'never',
  telemetry: false,
  withDefaultFonts: false,
  hideTestRequestButton: false,
  documentDownloadType: 'json',
  defaultOpenFirstTag: true,
} as const
