/**
 * Images pinned to a release (pure). A rollback is only a rollback when the release's images
 * differ from the next one's: `:latest`, no tag, or a tag that does not change with the release
 * would restart whatever the tag points at now.
 */

export interface ReleaseRef {
  version: string;
  commit: string;
}

/** The value of `versionVariable` for a release: `{version}`, `{sha}`, `{sha7}` filled in. */
export function releaseTag(template: string, release: ReleaseRef): string {
  return template.replaceAll('{version}', release.version).replaceAll('{sha7}', release.commit.slice(0, 7)).replaceAll('{sha}', release.commit);
}

/** The tag of an image reference, undefined without one (`redis`, `host:5000/app`, `app@sha256:…`). */
export function imageTag(image: string): string | undefined {
  const name = image.split('@')[0]!;
  const last = name.slice(name.lastIndexOf('/') + 1);
  const colon = last.indexOf(':');
  return colon >= 0 ? last.slice(colon + 1) : undefined;
}

/**
 * Why an image does not pin the release, or undefined when it does: its tag must carry the
 * release's tag value (what `versionVariable` was set to), so every release has its own image.
 */
export function floatingImageReason(image: string | undefined, tagValue: string, versionVariable: string): string | undefined {
  if (!image) return `has no image: compose names it after the project, the same name for every release; add image: <registry>/<name>:\${${versionVariable}}`;
  const tag = imageTag(image);
  if (tag === undefined) return `image ${image} has no tag (it means :latest); tag it with the release: ${image}:\${${versionVariable}}`;
  if (tag === 'latest') return `image ${image} is :latest, whatever was pushed last; tag it with the release: ${image.slice(0, -':latest'.length)}:\${${versionVariable}}`;
  if (!tag.includes(tagValue)) return `image ${image} does not change with the release (its tag does not use \${${versionVariable}}, which is ${tagValue} for this release)`;
  return undefined;
}

export interface FloatingImage {
  service: string;
  image: string | undefined;
  reason: string;
}

export interface PinPolicy {
  /** The release's value of versionVariable. */
  tag: string;
  versionVariable: string;
  /** target.images.tag, shown in the hint. */
  template: string;
  /** target.dependencies: infrastructure, not part of the release. */
  dependencies: string[];
  isInfrastructure: (image: string | undefined) => boolean;
}

/** The release's own services (not dependencies, not infrastructure by image) whose images float. */
export function floatingImages(services: { name: string; image: string | undefined }[], policy: PinPolicy): FloatingImage[] {
  return services
    .filter((s) => !policy.dependencies.includes(s.name) && !policy.isInfrastructure(s.image))
    .map((s) => ({ service: s.name, image: s.image, reason: floatingImageReason(s.image, policy.tag, policy.versionVariable) }))
    .filter((f): f is FloatingImage => f.reason !== undefined);
}

export function floatingImagesMessage(version: string, floating: FloatingImage[]): string {
  return `${version} is not pinned to its images: ${floating.map((f) => `${f.service}: ${f.reason}`).join('; ')}`;
}

export function floatingImagesHint(policy: Pick<PinPolicy, 'versionVariable' | 'template'>): string {
  return `Tag each service's image with \${${policy.versionVariable}} (set from target.images.tag, now "${policy.template}"), list infrastructure under target.dependencies, or set target.allowFloatingImages: true to deploy unpinned images (a rollback then cannot bring the old code back).`;
}
