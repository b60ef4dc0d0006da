package proto

import (
	"os"
	"strings"
	"testing"
)

// TestDocsCoverEveryFrame keeps docs/protocol.md in step with the code:
// every frame type, event kind and error code must be described there.
func TestDocsCoverEveryFrame(t *testing.T) {
	doc, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Skipf("docs not present: %v", err)
	}
	text := string(doc)
	var names []string
	for _, ty := range []Type{THello, TWelcome, TCreateRoom, TRoomOp, TOK, TSubmit, TAck, TEvent, TSubscribe,
		TSubscribed, TUnsubscribe, THistory, THistoryPage, TSignal, TRooms, TRoomList, TRoomInfo, TRoomState, TNotice, TError,
		TUploadKeyPackages, TKeyPackagesStored, TClaimKeyPackages, TKeyMaterial, TDevices, TDeviceList, TRemoveDevice, TKeyPackagesLow,
		TWelcomes, TWelcomeList, TMLSWelcome, TGetGroupInfo, TGroupInfo, TSubscribeRooms, TSubscribedRooms,
		TNewDeviceToken, TDeviceToken, TGetWelcomePart, TWelcomePart} {
		if newFrame(ty) == nil {
			t.Fatalf("frame type %q has no struct", ty)
		}
		names = append(names, `"t": "`+string(ty)+`"`)
	}
	for _, k := range Kinds {
		names = append(names, "`"+string(k)+"`")
	}
	for _, c := range []Code{CodeMalformed, CodeUnknownType, CodeBadField, CodeFrameTooLarge, CodeNotBinary,
		CodeUnsupportedVersion, CodeAuthRequired, CodeAuthFailed, CodeTooManyErrors, CodeShuttingDown, CodeDeviceRevoked,
		CodeNoSuchRoom, CodeNoSuchUser, CodeRoomExists, CodeNotMember, CodeBanned, CodeForbidden, CodeInvalidOp,
		CodeLastOwner, CodeContentTooLarge, CodeBadMessageID, CodeRateLimited, CodeInternal,
		CodeBadKeyPackage, CodeNoSuchDevice, CodeTooMany, CodeStaleEpoch, CodeBadCommit, CodeWelcomesTooLarge} {
		names = append(names, "`"+string(c)+"`")
	}
	for _, n := range names {
		if !strings.Contains(text, n) {
			t.Errorf("docs/protocol.md does not mention %s", n)
		}
	}
}
