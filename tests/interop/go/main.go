// A client of the runner written against the vendor's official Go SDK (service/im, v1.0.253),
// unmodified. It runs one scenario and prints what each step got as JSON lines, for
// tests/interop/test_go_sdk.py to judge.
//
// Usage: interop HOST ACCESS_KEY SECRET APP_ID [create|life]
//
// create: creates, finds in either order, IdempotentId, refusals.
// life: a group's whole life through every action the SDK has for it.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/volcengine/volc-sdk-golang/service/im"
)

type step struct {
	Step    string `json:"step"`
	Exist   bool   `json:"exist"`
	ShortID int64  `json:"short_id"`
	Error   string `json:"error,omitempty"`
}

func client(host, ak, sk string) *im.Im {
	c := im.NewInstance()
	c.SetScheme("http")
	c.SetHost(host)
	c.SetAccessKey(ak)
	c.SetSecretKey(sk)
	c.SetTimeout(30 * time.Second)
	return c
}

func create(c *im.Im, name string, body *im.CreateConversationBody) {
	res, err := c.CreateConversation(context.Background(), body)
	out := step{Step: name}
	if err != nil {
		out.Error = err.Error()
	} else {
		out.Exist = res.Result.Exist
		out.ShortID = res.Result.ConversationShortID
	}
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
}

func main() {
	if len(os.Args) < 5 || len(os.Args) > 6 {
		fmt.Fprintln(os.Stderr, "usage: interop HOST ACCESS_KEY SECRET APP_ID [create|life]")
		os.Exit(2)
	}
	host, ak, sk := os.Args[1], os.Args[2], os.Args[3]
	app64, err := strconv.ParseInt(os.Args[4], 10, 32)
	if err != nil {
		panic(err)
	}
	app := int32(app64)
	owner := time.Now().UnixNano()%1_000_000_000_000 + 1
	other := owner + 1
	idem := fmt.Sprintf("go-sdk-%d", owner)
	c := client(host, ak, sk)
	if len(os.Args) == 6 && os.Args[5] == "life" {
		life(c, app, owner)
		return
	}

	create(c, "group", &im.CreateConversationBody{
		AppID: app, OwnerUserID: owner,
		ConversationCoreInfo: im.CreateConversationBodyConversationCoreInfo{ConversationType: 2},
	})
	single := im.CreateConversationBodyConversationCoreInfo{ConversationType: 1}
	create(c, "single", &im.CreateConversationBody{
		AppID: app, OwnerUserID: owner, OtherUserID: &other, ConversationCoreInfo: single,
	})
	create(c, "single-reversed", &im.CreateConversationBody{
		AppID: app, OwnerUserID: other, OtherUserID: &owner, ConversationCoreInfo: single,
	})
	for _, name := range []string{"idempotent-first", "idempotent-again"} {
		create(c, name, &im.CreateConversationBody{
			AppID: app, OwnerUserID: owner, IdempotentID: &idem,
			ConversationCoreInfo: im.CreateConversationBodyConversationCoreInfo{ConversationType: 2},
		})
	}
	create(c, "invalid-type", &im.CreateConversationBody{
		AppID: app, OwnerUserID: owner,
		ConversationCoreInfo: im.CreateConversationBodyConversationCoreInfo{ConversationType: 7},
	})
	create(client(host, ak, "not-the-secret"), "wrong-secret", &im.CreateConversationBody{
		AppID: app, OwnerUserID: owner,
		ConversationCoreInfo: im.CreateConversationBodyConversationCoreInfo{ConversationType: 2},
	})
}

// emit prints a step's whole answer (ResponseMetadata and Result) or the SDK's error.
func emit(name string, res interface{}, err error) {
	out := map[string]interface{}{"step": name}
	if err != nil {
		out["error"] = err.Error()
	} else {
		out["answer"] = res
	}
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
}

func life(c *im.Im, app int32, owner int64) {
	ctx := context.Background()
	name := "go-sdk team"
	created, err := c.CreateConversation(ctx, &im.CreateConversationBody{
		AppID: app, OwnerUserID: owner,
		ConversationCoreInfo: im.CreateConversationBodyConversationCoreInfo{
			ConversationType: 2, Name: &name,
		},
	})
	emit("create", created, err)
	if err != nil {
		return
	}
	group := created.Result.ConversationShortID
	first, second, third := owner+1, owner+2, owner+3
	manager, nick := int64(2), "carol"
	added, err := c.BatchAddConversationParticipant(ctx, &im.BatchAddConversationParticipantBody{
		AppID: app, ConversationShortID: group, Operator: owner,
		ParticipantInfos: []im.BatchAddConversationParticipantBodyParticipantInfosItem{
			{ParticipantUserID: first},
			{ParticipantUserID: second, Role: &manager},
			{ParticipantUserID: third, NickName: &nick},
		},
	})
	emit("add", added, err)
	page, err := c.ScanConversationParticipantList(ctx, &im.ScanConversationParticipantListBody{
		AppID: app, ConversationShortID: group, Limit: 2,
	})
	emit("scan", page, err)
	if err == nil {
		next, err := c.ScanConversationParticipantList(ctx,
			&im.ScanConversationParticipantListBody{
				AppID: app, ConversationShortID: group, Limit: 2,
				Cursor: int64(page.Result.NextCursor),
			})
		emit("scan-next", next, err)
	}
	level := int32(3)
	modified, err := c.BatchModifyConversationParticipant(ctx,
		&im.BatchModifyConversationParticipantBody{
			AppID: app, ConversationShortID: group, Operator: owner,
			ParticipantInfos: []im.BatchModifyConversationParticipantBodyParticipantInfosItem{
				{ParticipantUserID: third, Level: &level},
			},
		})
	emit("modify-members", modified, err)
	members, err := c.BatchGetConversationParticipant(ctx,
		&im.BatchGetConversationParticipantBody{
			AppID: app, ConversationShortID: group,
			ParticipantUserIDs: []int64{owner, second, third},
		})
	emit("get-members", members, err)
	renamed := "go-sdk team (renamed)"
	transferred, err := c.ModifyConversation(ctx, &im.ModifyConversationBody{
		AppID: app,
		ConversationCoreInfo: im.ModifyConversationBodyConversationCoreInfo{
			ConversationShortID: group, Name: &renamed, OwnerUserID: &first,
		},
	})
	emit("transfer", transferred, err)
	removed, err := c.BatchDeleteConversationParticipant(ctx,
		&im.BatchDeleteConversationParticipantBody{
			AppID: app, ConversationShortID: group, Operator: first,
			ParticipantUserIDs: []int64{second, first},
		})
	emit("remove", removed, err)
	count, err := c.GetConversationUserCount(ctx, &im.GetConversationUserCountBody{
		AppID: app, ConversationShortID: group,
	})
	emit("count", count, err)
	for step, user := range map[string]int64{"is-removed-member": second, "is-member": third} {
		answer, err := c.IsUserInConversation(ctx, &im.IsUserInConversationBody{
			AppID: app, ConversationShortID: group, ParticipantUserID: user,
		})
		emit(step, answer, err)
	}
	read, err := c.BatchGetConversations(ctx, &im.BatchGetConversationsBody{
		AppID: app, ConversationShortID: []int64{group},
	})
	emit("batch-get", read, err)
	listed, err := c.GetUserConversations(ctx, &im.GetUserConversationsBody{
		AppID: app, ParticipantUserID: first, Limit: 10,
	})
	emit("user-conversations", listed, err)
	dissolved, err := c.DestroyConversation(ctx, &im.DestroyConversationBody{
		AppID: app, ConversationShortID: group, OwnerUserID: first,
	})
	emit("destroy", dissolved, err)
	after, err := c.GetConversationUserCount(ctx, &im.GetConversationUserCountBody{
		AppID: app, ConversationShortID: group,
	})
	emit("count-after-destroy", after, err)
}
