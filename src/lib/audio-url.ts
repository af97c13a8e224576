/** Public URL of a stored audio file: AUDIO_PUBLIC_BASE_URL + "/" + file name. */
export function audioUrlFor(publicBaseUrl: string, fileName: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/${encodeURIComponent(fileName)}`;
}
