"""/v3/me/... (spec §6): the signed-in person's profile and avatars, for apps. Each handler
parses, calls the service the web pages call (so moderation, the audit log and edge purges
apply unchanged) and answers JSON; api/http.py holds the shared policy (token, scope, errors).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from api import errors, representations, scopes
from api.auth import Principal
from api.http import (
    BadRequest,
    Operation,
    Param,
    api_counted,
    api_operation,
    json_body,
    json_response,
)
from api.models import ImageHandle
from api.selectors import own_profile
from api.services import image_ids_of
from avatars import services as avatar_services
from avatars.imaging import decode, encode
from avatars.models import Address, Avatar, ModerationState, Rating
from profiles import services as profile_services
from profiles.models import Profile, ProfileLink
from profiles.services import ProfileFields

# The ratings as the API spells them (upper case), mapped to the contract's.
API_RATINGS = {rating.upper(): rating for rating in Rating.values}
ALT_TEXT_MAX = Avatar._meta.get_field("alt_text").max_length or 250


def _verified_address(user_id: int, sha256: str) -> Address | None:
    """The account's verified address with this SHA-256; None for an unverified one or
    another person's, which the caller cannot tell apart."""
    return (
        Address.objects.filter(owner_id=user_id, sha256=sha256.lower(), verified_at__isnull=False)
        .select_related("avatar")
        .first()
    )


def _selected_address(request: HttpRequest, principal: Principal) -> Address | None:
    """The address named by `selected_email_hash`, else the primary one."""
    digest = request.GET.get("selected_email_hash", "")
    if digest:
        address = _verified_address(principal.user_id, digest)
        if address is None:
            raise BadRequest(
                "selected_email_hash is not the SHA-256 of a verified address of yours.",
                errors.ADDRESS_NOT_VERIFIED,
            )
        return address
    return (
        Address.objects.filter(owner_id=principal.user_id, verified_at__isnull=False)
        .order_by("-is_primary", "email")
        .first()
    )


def _own_avatar(principal: Principal, image_id: str) -> Avatar | None:
    """The person's image with this id; another person's image is not found either."""
    handle = (
        ImageHandle.objects.filter(image_id=image_id, avatar__owner_id=principal.user_id)
        .select_related("avatar")
        .first()
    )
    return handle.avatar if handle is not None else None


# Profile


def me_profile_read(request: HttpRequest, principal: Principal) -> HttpResponse:
    return json_response(representations.profile_json(own_profile(user_id=principal.user_id)))


def _text(body: dict[str, Any], name: str, current: str) -> str:
    value = body.get(name, current)
    if not isinstance(value, str):
        raise BadRequest(f'{name} must be a string ("" unsets it).')
    return value


def _links(body: dict[str, Any]) -> list[tuple[str, str]] | None:
    if "links" not in body:
        return None
    links = body["links"]
    if not isinstance(links, list) or not all(
        isinstance(link, dict)
        and set(link) <= {"label", "url"}
        and isinstance(link.get("url"), str)
        and isinstance(link.get("label", ""), str)
        for link in links
    ):
        raise BadRequest('links must be a list of {"label": "...", "url": "https://..."}.')
    return [(link.get("label", ""), link["url"]) for link in links]


def me_profile_edit(request: HttpRequest, principal: Principal) -> HttpResponse:
    """Change the fields sent, keep the others; `""` unsets one, `links` replaces them all.
    Through the profile editor's services: the same checks and words, the same purges."""
    body = json_body(request)
    unknown = set(body) - {"display_name", "links", *representations.PROFILE_FIELDS}
    if unknown:
        raise BadRequest(f"Unknown or read-only field(s): {', '.join(sorted(unknown))}.")
    user = principal.user
    profile = Profile.objects.filter(user=user).first()
    current = {
        name: getattr(profile, column) if profile is not None else ""
        for name, column in representations.PROFILE_FIELDS.items()
    }
    texts = {name: _text(body, name, value) for name, value in current.items()}
    links = _links(body)
    fields = ProfileFields(
        **{column: texts[name] for name, column in representations.PROFILE_FIELDS.items()}
    )
    try:
        with transaction.atomic():
            profile_services.profile_edit(
                user=user,
                fields=fields,
                slug=profile.slug or "" if profile is not None else "",
                published=profile.published if profile is not None else False,
                display_name=_text(body, "display_name", user.display_name),
                display_name_public=user.display_name_public,
                hide_avatar=user.hide_avatar,
            )
            if links is not None:
                for link in ProfileLink.objects.filter(profile__user=user):
                    profile_services.profile_link_remove(link=link)
                for label, url in links:
                    profile_services.profile_link_add(user=user, label=label, url=url)
    except ValidationError as error:
        raise BadRequest(" ".join(error.messages)) from None
    return me_profile_read(request, principal)


me_profile = api_operation(
    "/v3/me/profile",
    GET=Operation(
        me_profile_read,
        scopes.PROFILE_READ,
        "The signed-in person's profile, published or not",
        response="MeProfile",
    ),
    PATCH=Operation(
        me_profile_edit,
        scopes.PROFILE_MANAGE,
        'Change the fields sent ("" unsets one; links replaces them all)',
        response="MeProfile",
        body="MeProfileEdit",
        errors=(400,),
    ),
)


# Avatars


def me_avatars_list(request: HttpRequest, principal: Principal) -> HttpResponse:
    selected = _selected_address(request, principal)
    avatars = list(Avatar.objects.filter(owner_id=principal.user_id).order_by("-created_at"))
    ids = image_ids_of(avatars)
    shown = selected.avatar_id if selected is not None else None
    return json_response(
        [
            representations.avatar_json(avatar, ids[avatar.pk], selected=avatar.pk == shown)
            for avatar in avatars
        ]
    )


def _flag(request: HttpRequest, name: str) -> bool | None:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in {"true", "1"}:
        return True
    if raw.lower() in {"false", "0"}:
        return False
    raise BadRequest(f"{name} must be true or false.")


def me_avatars_upload(request: HttpRequest, principal: Principal) -> HttpResponse:
    if not (request.content_type or "").startswith("multipart/form-data"):
        raise BadRequest("Send the image as multipart/form-data, in the field image.")
    upload: UploadedFile | None = request.FILES.get("image")
    if upload is None:
        raise BadRequest("Send the image as multipart/form-data, in the field image.")
    select = _flag(request, "select_avatar")
    digest = request.GET.get("selected_email_hash", "")
    address = _selected_address(request, principal) if digest else None
    limit = settings.AVATAR_MAX_UPLOAD_BYTES
    if upload.size is not None and upload.size > limit:
        return errors.error_response(
            413,
            (f"The file is over the limit of {limit / 1_048_576:.0f} MB.", errors.IMAGE_TOO_LARGE),
        )
    # Without select_avatar, the image is chosen only for an address that shows none yet
    # (Gravatar's rule).
    chosen = (
        [address]
        if address is not None and (select or (select is None and address.avatar_id is None))
        else []
    )
    try:
        avatar = avatar_services.avatar_upload(
            owner=principal.user,
            choices=avatar_services.UploadChoices(),
            data=bytes(upload.read(limit + 1)),
            addresses=chosen,
        )
    except decode.UploadTooLarge as error:
        return errors.error_response(413, (str(error), errors.IMAGE_TOO_LARGE))
    except decode.UploadRejected as error:
        raise BadRequest(str(error), errors.UNSUPPORTED_IMAGE) from None
    image_id = image_ids_of([avatar])[avatar.pk]
    shown = chosen[0] if chosen else None
    return json_response(
        representations.avatar_json(avatar, image_id, selected=shown is not None), status=201
    )


SELECTED_EMAIL_HASH = Param(
    "selected_email_hash",
    "SHA-256 of one of your verified addresses (default: the primary one)",
    schema={"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
)

me_avatars = api_operation(
    "/v3/me/avatars",
    GET=Operation(
        me_avatars_list,
        scopes.PROFILE_READ,
        "The images of your library; `selected` for the address asked",
        response="Avatar",
        response_is_list=True,
        query=(SELECTED_EMAIL_HASH,),
        errors=(400,),
    ),
    POST=Operation(
        me_avatars_upload,
        scopes.AVATARS_MANAGE,
        "Upload an image (multipart field `image`); non-square images are centre-cropped",
        status=201,
        response="Avatar",
        multipart=True,
        query=(
            SELECTED_EMAIL_HASH,
            Param(
                "select_avatar",
                "Show it for that address (default: only when the address shows none yet)",
                schema={"type": "boolean"},
            ),
        ),
        errors=(400, 413),
    ),
)


def me_avatar_edit(request: HttpRequest, principal: Principal, image_id: str) -> HttpResponse:
    avatar = _own_avatar(principal, image_id)
    if avatar is None:
        return errors.error_response(404, errors.NOT_FOUND)
    body = json_body(request)
    unknown = set(body) - {"rating", "alt_text"}
    if unknown:
        raise BadRequest(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    rating = body.get("rating", avatar.rating.upper())
    alt_text = body.get("alt_text", avatar.alt_text)
    if not isinstance(rating, str) or rating.upper() not in API_RATINGS:
        raise BadRequest("rating must be one of G, PG, R or X.")
    if not isinstance(alt_text, str) or len(alt_text) > ALT_TEXT_MAX:
        raise BadRequest(f"alt_text must be text of at most {ALT_TEXT_MAX} characters.")
    avatar_services.avatar_edit(
        avatar=avatar,
        rating=API_RATINGS[rating.upper()],
        alt_text=alt_text,
        addresses=list(avatar.addresses.all()),
    )
    avatar.refresh_from_db()
    primary = _selected_address(request, principal)
    return json_response(
        representations.avatar_json(
            avatar, image_id, selected=primary is not None and primary.avatar_id == avatar.pk
        )
    )


def me_avatar_delete(request: HttpRequest, principal: Principal, image_id: str) -> HttpResponse:
    avatar = _own_avatar(principal, image_id)
    if avatar is None:
        return errors.error_response(404, errors.NOT_FOUND)
    avatar_services.avatar_delete(avatar=avatar)
    return HttpResponse(status=204)


me_avatar = api_operation(
    "/v3/me/avatars/{image_id}",
    PATCH=Operation(
        me_avatar_edit,
        scopes.AVATARS_MANAGE,
        "Change an image's rating or alt text",
        response="Avatar",
        body="AvatarEdit",
        errors=(400, 404),
    ),
    DELETE=Operation(
        me_avatar_delete,
        scopes.AVATARS_MANAGE,
        "Delete an image; its addresses show the default image",
        status=204,
        errors=(404,),
    ),
)


def me_avatar_assign(request: HttpRequest, principal: Principal, image_id: str) -> HttpResponse:
    avatar = _own_avatar(principal, image_id)
    if avatar is None:
        return errors.error_response(404, errors.NOT_FOUND)
    body = json_body(request)
    digest = body.get("email_hash")
    if not isinstance(digest, str) or not digest:
        raise BadRequest("email_hash (the SHA-256 of one of your verified addresses) is needed.")
    address = _verified_address(principal.user_id, digest)
    if address is None:
        raise BadRequest(
            "email_hash is not the SHA-256 of a verified address of yours.",
            errors.ADDRESS_NOT_VERIFIED,
        )
    if address.avatar_id != avatar.pk:
        avatar_services.avatar_assign(avatar=avatar, addresses=[address])
    return json_response(representations.avatar_json(avatar, image_id, selected=True))


me_avatar_email = api_operation(
    "/v3/me/avatars/{image_id}/email",
    POST=Operation(
        me_avatar_assign,
        scopes.AVATARS_MANAGE,
        "Show this image for one of your verified addresses",
        response="Avatar",
        body="AvatarAssign",
        errors=(400, 404),
    ),
)


def me_associated_email_read(request: HttpRequest, principal: Principal) -> HttpResponse:
    digest = request.GET.get("email_hash", "")
    if not digest:
        raise BadRequest("email_hash (a SHA-256) is needed.")
    return json_response({"associated": _verified_address(principal.user_id, digest) is not None})


me_associated_email = api_operation(
    "/v3/me/associated-email",
    GET=Operation(
        me_associated_email_read,
        scopes.PROFILE_READ,
        "Whether the address with this SHA-256 is a verified address of yours",
        response="Associated",
        query=(Param("email_hash", "SHA-256 of an address", required=True),),
        errors=(400,),
    ),
)


@api_counted
def me_not_found(request: HttpRequest) -> HttpResponse:
    return errors.error_response(404, errors.NOT_FOUND)


@require_safe
def api_image(request: HttpRequest, image_id: str) -> HttpResponse:
    """The `image_url` of an image in a library: its 256 px preview, for the app's picker.
    The random id is the capability (as Gravatar's userimage URLs are); a rejected image, or
    one of a disabled account, is not found."""
    handle = get_object_or_404(
        ImageHandle.objects.select_related("avatar", "avatar__owner"),
        image_id=image_id,
        avatar__owner__is_active=True,
    )
    avatar = handle.avatar
    if avatar.state == ModerationState.REJECTED:
        return HttpResponse(status=404)
    with default_storage.open(avatar.preview.name, "rb") as preview:
        response = HttpResponse(preview.read(), content_type=encode.CONTENT_TYPES[avatar.format])
    response["Cache-Control"] = "private, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response
