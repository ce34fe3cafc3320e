/**
 * The monitor's HTML. Strict CSP: no inline script or style without the nonce, scripts and styles only from the
 * extension's media (`cspSource`), no network. The host (or a test) supplies the URIs of the built files.
 */
export interface MonitorPage {
    /** `webview.cspSource` (or the test server's origin). */
    cspSource: string;
    nonce: string;
    scriptUri: string;
    styleUri: string;
    title: string;
}
export declare function monitorCsp(cspSource: string, nonce: string): string;
export declare function renderMonitorHtml(p: MonitorPage): string;
/** 32 random alphanumerics for the CSP nonce. */
export declare function makeNonce(random: (n: number) => Uint8Array): string;
