// Container image references: checking them, reading and replacing their tag (image_tag patches).

const DOMAIN_PART = '(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)';
// As Docker reads it: a first component is a registry only with a '.', a port, or as localhost.
const DOMAIN = `(?:localhost(?::[0-9]+)?|${DOMAIN_PART}(?:\\.${DOMAIN_PART})+(?::[0-9]+)?|${DOMAIN_PART}:[0-9]+)`;
const PATH_PART = '(?:[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)';
const TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}';
const REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${PATH_PART}(?:/${PATH_PART})*(?::${TAG})?(?:@${DIGEST})?$`);
const TAG_ONLY = new RegExp(`^${TAG}$`);

export const IMAGE_HELP = 'an image reference such as mageai/mageai:latest or registry.example.com:5000/team/image:1.2';
export const TAG_HELP =
  'a tag of letters, digits, _, . and - (at most 128 characters, not starting with . or -), such as 2026.06.16';

export function isImageReference(s: string): boolean {
  return s.length <= 512 && REFERENCE.test(s);
}

export function isImageTag(s: string): boolean {
  return TAG_ONLY.test(s);
}

/** The image without tag and digest. A ':' before the last '/' belongs to a registry port, not a tag. */
export function imageRepository(image: string): string {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

/** The image's explicit tag, or undefined when it has none (an untagged or digest-only reference). */
export function imageTag(image: string): string | undefined {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(colon + 1) : undefined;
}

/** The same repository at another tag; a digest is dropped, since it would pin the old image. */
export function applyImageTag(image: string, tag: string): string {
  return `${imageRepository(image)}:${tag}`;
}
